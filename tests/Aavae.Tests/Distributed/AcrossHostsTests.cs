using System.Globalization;
using Aavae.Checkpoints;

namespace Aavae.Tests.Distributed;

/// <summary>
/// Data-parallel pre-training with one process on each of two hosts (<see cref="TwoHosts"/>),
/// under Open MPI's and MPICH's launchers with shared memory off: the all-reduce crosses TCP, the
/// result tracks one process, and rank 0's checkpoint is whole.
/// </summary>
public class AcrossHostsTests
{
    private static readonly string[] Small =
        ["pretrain", "--preset", "cpu-small", "--width", "4", "--latent-dim", "8", "--batch-size", "16", "--precision", "32", "--knn-every", "0",
         "--limit-val-batches", "2", "--device", "cpu", "--max-epochs", "1", "--limit-train-batches", "6", "--threads", "1"];

    [RequiresTheory(Need.Hosts)]
    [InlineData("openmpi")]
    [InlineData("mpich")]
    public void TwoHostsOverTcpTrainAsOneProcessDoes(string family)
    {
        using var hosts = new TwoHosts();
        var dir = TempDir.Create();
        var run = Path.Combine(dir, "two-hosts");
        long before = hosts.BytesCrossed();
        using var job = hosts.Start(family, CliRunner.Program, [.. Small, "--output", run], dir);
        var (code, output, err) = MpiLauncher.Finish(job, TimeSpan.FromMinutes(4));
        Assert.True(code == 0, output + err);
        long crossed = hosts.BytesCrossed() - before;
        Assert.Contains("data-parallel: 2 processes", output);

        // Each step's all-reduce moves the whole bucket through host-a's link: its half out and the other half in, at least.
        var summary = System.Text.RegularExpressions.Regex.Match(output, @"data-parallel: ([\d.]+) MB all-reduced a step \(([\d,]+) values\)");
        Assert.True(summary.Success, output);
        long values = long.Parse(summary.Groups[2].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        Assert.True(crossed >= 6 * values * sizeof(float), $"{crossed:N0} bytes crossed the link for 6 steps of {values:N0} floats");

        var single = Path.Combine(dir, "one-process");
        (code, _, err) = CliRunner.Run(dir, [.. Small, "--output", single]);
        Assert.True(code == 0, err);
        // The same images and views; batch statistics over each host's half batch and each process's posterior noise differ (as DDP without SyncBatchNorm).
        double parallel = ValLoss(run), alone = ValLoss(single);
        Assert.True(Math.Abs(parallel - alone) <= 0.01 * Math.Abs(alone), $"val_loss {parallel} on two hosts, {alone} in one process");

        var position = TrainingCheckpoint.Read(Path.Combine(run, "checkpoints", "last.ckpt")).Position;
        Assert.Equal(6L, position.GlobalStep);
        Assert.Empty(MpiLauncher.RanksLeft(run));
    }

    private static double ValLoss(string run)
    {
        var rows = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        int column = Array.IndexOf(rows[0].Split(','), "val_loss");
        return double.Parse(rows[^1].Split(',')[column], CultureInfo.InvariantCulture);
    }
}

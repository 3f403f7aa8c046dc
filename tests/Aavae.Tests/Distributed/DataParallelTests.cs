using System.Globalization;
using Aavae.Training;
using Aavae.Checkpoints;
using Aavae.Options;

namespace Aavae.Tests.Distributed;

/// <summary>
/// Data-parallel pre-training with two processes on this machine, under Open MPI's and MPICH's
/// launchers: averaged gradients equal one process's, weights stay identical on every process,
/// a dead process ends the job without harming the last checkpoint, a run continues on fewer processes.
/// </summary>
public class DataParallelTests
{
    private static readonly string[] Small =
        ["pretrain", "--preset", "cpu-small", "--width", "4", "--latent-dim", "8", "--batch-size", "16", "--precision", "32", "--knn-every", "0", "--limit-val-batches", "1", "--device", "cpu"];

    [RequiresTheory(Need.Mpi)]
    [InlineData("openmpi")]
    [InlineData("mpich")]
    public void AveragedGradientsEqualOneProcessWithTheGlobalBatch(string family)
    {
        var (code, output, err) = MpiLauncher.Get(family).Run(2, MpiLauncher.Worker, ["gradients"], TempDir.Create());
        Assert.True(code == 0, err);
        var ranks = MpiLauncher.Lines(output);
        Assert.Equal([0, 1], ranks.Keys.Order());
        foreach (var (rank, lines) in ranks)
        {
            Assert.Equal("2", lines["processes"]);
            // float64 decoder and objective: the averaged shard gradients against the whole batch's.
            Assert.True(double.Parse(lines["max_abs_diff"], CultureInfo.InvariantCulture) <= 1e-6, $"rank {rank}: {lines["max_abs_diff"]}");
            Assert.True(double.Parse(lines["max_abs_grad"], CultureInfo.InvariantCulture) > 1, "the gradients are not trivially small");
        }
        Assert.Equal(ranks[0]["grad_digest"], ranks[1]["grad_digest"]);
    }

    [RequiresTheory(Need.Mpi)]
    [InlineData("openmpi")]
    [InlineData("mpich")]
    public void AfterSixStepsEveryProcessHoldsTheSameWeightsAndTheLossesTrackOneProcess(string family)
    {
        var launcher = MpiLauncher.Get(family);
        var (code, output, err) = launcher.Run(2, MpiLauncher.Worker, ["train", Path.Combine(TempDir.Create(), "run"), "6"], TempDir.Create());
        Assert.True(code == 0, err);
        var (singleCode, singleOutput, singleErr) = launcher.Run(0, MpiLauncher.Worker, ["train", Path.Combine(TempDir.Create(), "run"), "6"], TempDir.Create());
        Assert.True(singleCode == 0, singleErr);
        var ranks = MpiLauncher.Lines(output);
        var single = MpiLauncher.Lines(singleOutput)[0];

        Assert.Equal("2", ranks[0]["processes"]);
        Assert.Equal("1", single["processes"]);
        Assert.Equal("6", ranks[0]["steps"]);
        // Bit-identical: the same averaged gradients, optimizer and rank 0's BatchNorm statistics everywhere.
        Assert.Equal(ranks[0]["weights_digest"], ranks[1]["weights_digest"]);
        Assert.Equal(ranks[0]["losses"], ranks[1]["losses"]);
        // The same images and views as one process; BatchNorm's batch statistics over half batches
        // and each process's own posterior noise move the loss by about 1e-6 relative (measured): 1e-3 allowed.
        var parallel = Losses(ranks[0]["losses"]);
        var alone = Losses(single["losses"]);
        Assert.Equal(6, parallel.Length);
        for (int i = 0; i < 6; i++)
            Assert.True(Math.Abs(parallel[i] - alone[i]) <= 1e-3 * Math.Abs(alone[i]), $"step {i}: {parallel[i]} vs {alone[i]}");
    }

    [RequiresFact(Need.Mpi)]
    public void TheReferencesBatchSizeSpellingIsPerProcessAndTheGlobalBatchIsSaid()
    {
        // vae.py under DDP: --batch_size images on each process. --batch-size stays the global batch (the test above).
        var run = Path.Combine(TempDir.Create(), "run");
        string[] args = [.. Small.Where((_, i) => i is not (7 or 8)), "--batch_size", "8", "--max-steps", "1", "--output", run];
        var (code, output, err) = MpiLauncher.Get("openmpi").Run(2, CliRunner.Program, args, TempDir.Create());
        Assert.True(code == 0, err);
        Assert.Contains("--batch_size 8 is per process, as the reference reads it: a global batch of 16 over 2 processes", output);
        Assert.Equal(16, PretrainOptions.Read(Path.Combine(run, "config.json")).Data.BatchSize);
    }

    [RequiresTheory(Need.Mpi)]
    [InlineData("openmpi")]
    [InlineData("mpich")]
    public void KillingOneProcessEndsTheJobAndLeavesTheLastCheckpointWhole(string family)
    {
        var launcher = MpiLauncher.Get(family);
        var run = Path.Combine(TempDir.Create(), "killed-" + family);
        using var job = launcher.Start(2, CliRunner.Program, [.. Small, "--max-epochs", "200", "--limit-train-batches", "10", "--output", run], TempDir.Create());
        var last = Path.Combine(run, "checkpoints", "last.ckpt");
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!File.Exists(Path.Combine(run, "checkpoints", "epoch=0001.ckpt")) && !job.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(100);
        Assert.False(job.HasExited, job.HasExited ? job.StandardError.ReadToEnd() : "");

        var ranks = MpiLauncher.Ranks(run);
        Assert.Equal(2, ranks.Count);
        System.Diagnostics.Process.GetProcessById(ranks.Max()).Kill();
        var (code, _, _) = MpiLauncher.Finish(job, TimeSpan.FromMinutes(1));

        Assert.NotEqual(0, code);
        Assert.Empty(MpiLauncher.RanksLeft(run));
        var checkpoint = TrainingCheckpoint.Read(last);
        Assert.True(checkpoint.Position.Epoch >= 2, $"last.ckpt at epoch {checkpoint.Position.Epoch}");
        Assert.Equal(0, checkpoint.Position.Batch);
    }

    [RequiresTheory(Need.Mpi)]
    [InlineData("openmpi")]
    [InlineData("mpich")]
    public void ARunOfTwoProcessesContinuesInOneOnTheSameGlobalSchedule(string family)
    {
        var launcher = MpiLauncher.Get(family);
        var dir = TempDir.Create();
        var run = Path.Combine(dir, "run");
        var (code, output, err) = launcher.Run(2, CliRunner.Program, [.. Small, "--max-epochs", "1", "--limit-train-batches", "3", "--output", run], dir);
        Assert.True(code == 0, err);
        Assert.Contains("data-parallel: 2 processes", output);
        Assert.Equal(3, TrainingCheckpoint.Read(Path.Combine(run, "checkpoints", "last.ckpt")).Position.GlobalStep);

        (code, output, err) = CliRunner.Run(dir, "pretrain", "--resume", run, "--max-epochs", "2");
        Assert.True(code == 0, err);
        var position = TrainingCheckpoint.Read(Path.Combine(run, "checkpoints", "last.ckpt")).Position;
        Assert.Equal((2, 0, 6L), (position.Epoch, position.Batch, position.GlobalStep));
        var rows = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        Assert.Equal(3, rows.Length);
    }

    [RequiresTheory(Need.Mpi)]
    [InlineData("mpich")]
    public void UnderATimeBudgetEveryProcessPlansTheSameStepsAndStopsThere(string family)
    {
        var launcher = MpiLauncher.Get(family);
        var run = Path.Combine(TempDir.Create(), "budget");
        var (code, output, err) = launcher.Run(2, CliRunner.Program, [.. Small, "--max-time", "40s", "--limit-train-batches", "10", "--output", run], TempDir.Create());
        Assert.True(code == 0, err);
        var plan = PretrainOptions.Read(Path.Combine(run, "config.json")).Trainer.Plan;
        Assert.NotNull(plan);
        // Rank 0 alone speaks; the others planned the same steps from the same averaged timings, or the all-reduce of a step one of them skipped would hang.
        Assert.Contains($"time budget 00:00:00:40: {plan.Steps} steps", output);
        Assert.Equal(plan.Steps, TrainingCheckpoint.Read(Path.Combine(run, "checkpoints", "last.ckpt")).Position.GlobalStep);
        Assert.Empty(MpiLauncher.RanksLeft(run));
    }

    [RequiresTheory(Need.Mpi)]
    [InlineData("openmpi", "TERM")]
    [InlineData("mpich", "INT")]
    public void AStopFromTheLauncherWritesLastCheckpointOnceAtTheStepTheProcessesAgreedOn(string family, string signal)
    {
        var launcher = MpiLauncher.Get(family);
        var run = Path.Combine(TempDir.Create(), "stopped");
        using var job = launcher.Start(2, CliRunner.Program, [.. Small, "--max-epochs", "200", "--limit-train-batches", "10", "--output", run], TempDir.Create());
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!File.Exists(Path.Combine(run, "checkpoints", "epoch=0000.ckpt")) && !job.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(100);
        Thread.Sleep(300);
        using (var kill = System.Diagnostics.Process.Start("kill", ["-" + signal, job.Id.ToString()])) kill.WaitForExit();
        var (_, output, err) = MpiLauncher.Finish(job, TimeSpan.FromMinutes(1));

        Assert.Single(System.Text.RegularExpressions.Regex.Matches(output + err, "interrupted at epoch"));
        var position = TrainingCheckpoint.Read(Path.Combine(run, "checkpoints", "last.ckpt")).Position;
        Assert.True(position.GlobalStep > 10, $"stopped at step {position.GlobalStep}");
        Assert.Empty(MpiLauncher.RanksLeft(run));
    }

    [RequiresTheory(Need.Mpi)]
    [InlineData("openmpi")]
    [InlineData("mpich")]
    public void OneProcessFailingEndsTheWholeJobWithALineNamingIt(string family)
    {
        var launcher = MpiLauncher.Get(family);
        var dir = TempDir.Create();
        var missing = Path.Combine(dir, "no-such-data");
        string[] common = [.. Small, "--max-epochs", "1", "--limit-train-batches", "3", "--output", Path.Combine(dir, "run")];
        // Two programs in one job (the launchers' colon syntax): rank 1 alone is told to read data that is not there.
        var (code, _, err) = launcher.Run(1, CliRunner.Program, [.. common, ":", "-np", "1", "dotnet", CliRunner.Program, .. common, "--data-dir", missing], dir,
            TimeSpan.FromMinutes(1));
        Assert.NotEqual(0, code);
        Assert.Matches($"aavae: rank 1 of 2: error: .*{System.Text.RegularExpressions.Regex.Escape(missing)}", err);
        Assert.DoesNotContain("rank 0 of 2: error", err);
        Assert.Empty(MpiLauncher.RanksLeft(dir));
    }

    private static double[] Losses(string text) => text.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
}

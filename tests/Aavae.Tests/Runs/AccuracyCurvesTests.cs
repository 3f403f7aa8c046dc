using Aavae.Training;
using Aavae.Runs;

namespace Aavae.Tests.Runs;

/// <summary>Curves read from a run's metrics.csv, and the PNG that <c>aavae plot</c> draws of them.</summary>
public class AccuracyCurvesTests
{
    /// <summary>A run folder as pretrain leaves it: config.json naming the model, metrics.csv with a probe every other epoch.</summary>
    private static string Run(string kind, params (double Knn, double? Linear)[] epochs)
    {
        var dir = Path.Combine(TempDir.Create(), $"{kind}-fashion-mnist-0");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), $$"""{ "model": { "kind": "{{kind}}", "width": 16 } }""");
        var lines = new List<string> { "epoch,step,train_loss,knn_acc,linear_val_acc,epoch_seconds" };
        for (int e = 0; e < epochs.Length; e++)
            lines.Add($"{e},{429 * (e + 1)},3000,{epochs[e].Knn},{epochs[e].Linear?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? ""},90");
        File.WriteAllLines(Path.Combine(dir, "metrics.csv"), lines);
        return dir;
    }

    [Fact]
    public void CurvesCountEpochsFromOneAndSkipEpochsWithoutTheMetric()
    {
        var dir = Run("aavae", (0.7, null), (0.75, 0.8), (0.78, null), (0.8, 0.85));
        var curves = AccuracyCurves.Read(dir, ["linear_val_acc", "knn_acc", "online_val_acc"]);
        Assert.Equal(["linear_val_acc", "knn_acc"], curves.Select(c => c.Metric));
        var linear = curves[0];
        Assert.Equal("AAVAE (aavae-fashion-mnist-0)", linear.Run);
        Assert.Equal([2.0, 4.0], linear.Epochs);
        Assert.Equal([0.8, 0.85], linear.Values);
        // 90 s an epoch: 3 minutes after epoch 2, 6 after epoch 4.
        Assert.Equal([3.0, 6.0], linear.Minutes!);
        Assert.Equal([1.0, 2.0, 3.0, 4.0], curves[1].Epochs);
    }

    [Fact]
    public void PlotWritesOnePngAndRefusesToOverwriteIt()
    {
        var runs = new[] { Run("aavae", (0.7, 0.8), (0.8, 0.86)), Run("vae", (0.68, 0.78), (0.74, 0.82)), Run("ae", (0.69, 0.79), (0.76, 0.83)) };
        var work = TempDir.Create();
        var png = Path.Combine(work, "curves.png");
        var (code, stdout, stderr) = CliRunner.Run(work, ["plot", .. runs, "--output", png]);
        Assert.True(code == 0, stderr);
        Assert.Contains("AAVAE (aavae-fashion-mnist-0): linear_val_acc 86.00% at epoch 2", stdout);
        Assert.Contains("VAE (vae-fashion-mnist-0): knn_acc 74.00% at epoch 2 (3.0 minutes of training and scoring), best 74.00%", stdout);
        var (width, height, rgb) = Aavae.Embedding.PictureFile.DecodeRgb(png);
        Assert.Equal((1000, 640), (width, height));
        // Three runs in Category10's first three colours (blue, orange, green): each drawn somewhere.
        foreach (var (r, g, b) in new[] { (31, 119, 180), (255, 127, 14), (44, 160, 44) })
            Assert.True(Enumerable.Range(0, width * height).Any(i => rgb[3 * i] == r && rgb[3 * i + 1] == g && rgb[3 * i + 2] == b),
                $"no pixel of colour ({r}, {g}, {b})");

        var before = File.ReadAllBytes(png);
        var again = CliRunner.Run(work, ["plot", runs[0], "--output", png]);
        Assert.Equal(2, again.Code);
        Assert.Contains("already exists", again.Err);
        Assert.Equal(before, File.ReadAllBytes(png));
    }

    [Fact]
    public void PlotOfAFolderWithoutMetricsSaysWhatItExpected()
    {
        var work = TempDir.Create();
        var (code, _, stderr) = CliRunner.Run(work, "plot", work, "--output", Path.Combine(work, "x.png"));
        Assert.Equal(2, code);
        Assert.Contains("no metrics.csv", stderr);
        Assert.False(File.Exists(Path.Combine(work, "x.png")));
    }
}

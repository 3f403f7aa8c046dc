using System.Text.Json;

namespace Aavae.Tests.Cli;

/// <summary>linear-eval, knn and embed as a user runs them, on a one-step checkpoint.</summary>
[Trait(Category.Name, Category.Slow)]
public class EvaluationCommandTests(TinyRun tiny) : IClassFixture<TinyRun>
{
    [Fact]
    public void LinearEvalPrintsAndSavesTheTestAccuracy()
    {
        var outPath = Path.Combine(TempDir.Create(), "result.json");
        var (code, stdout, stderr) = CliRunner.Run(TempDir.Create(), "linear-eval", "--checkpoint", tiny.Run.Path, "--features", "cached", "--epochs", "2",
            "--limit-train-batches", "4", "--limit-eval-batches", "2", "--device", "cpu", "--output", outPath);
        Assert.True(code == 0, stderr);
        Assert.Contains("top-1 test accuracy", stdout);
        Assert.Contains("cached features", stdout);
        using var json = JsonDocument.Parse(File.ReadAllText(outPath));
        var acc = json.RootElement.GetProperty("result").GetProperty("test_accuracy").GetDouble();
        Assert.InRange(acc, 0, 1);
        // The cached features' k-NN score, printed and saved beside the linear one.
        var knn = json.RootElement.GetProperty("result").GetProperty("knn_accuracy").GetDouble();
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"k-NN {100 * knn:F2}%"), stdout);

        // A second run must not overwrite the first result.
        var again = CliRunner.Run(TempDir.Create(), "linear-eval", "--checkpoint", tiny.Run.Path, "--features", "cached", "--epochs", "1", "--output", outPath);
        Assert.Equal(2, again.Code);
    }

    [Fact]
    public void TheReferencesLinearEvalSpellingsRunAndLandInTheResult()
    {
        var outPath = Path.Combine(TempDir.Create(), "result.json");
        var (code, _, stderr) = CliRunner.Run(TempDir.Create(), "linear-eval", "--ckpt_path", tiny.Checkpoint, "--max_epochs", "1", "--weight_decay", "0.0001",
            "--momentum", "0.8", "--nesterov", "false", "--features", "cached", "--limit-train-batches", "2", "--limit-eval-batches", "1", "--device", "cpu", "--output", outPath);
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(File.ReadAllText(outPath));
        var o = json.RootElement.GetProperty("options");
        Assert.Equal((1, 0.0001, 0.8, false, "cached"), (o.GetProperty("epochs").GetInt32(), o.GetProperty("weight_decay").GetDouble(),
            o.GetProperty("momentum").GetDouble(), o.GetProperty("nesterov").GetBoolean(), o.GetProperty("features").GetString()));
    }

    [Fact]
    public void KnnPrintsTheTestAccuracy()
    {
        var (code, stdout, stderr) = CliRunner.Run(TempDir.Create(), "knn", "--checkpoint", tiny.Checkpoint, "--limit-batches", "4", "--device", "cpu");
        Assert.True(code == 0, stderr);
        Assert.Matches(@"k-NN \(k=200, T=0.1\) on fashion-mnist: top-1 test accuracy \d+\.\d\d%", stdout);
    }

    [Theory]
    [InlineData("knn", "Option '--checkpoint' is required")]
    [InlineData("embed --output f.npy", "Option '--checkpoint' is required")]
    [InlineData("embed --checkpoint CKPT --images missing.png --output f.npy", "--images missing.png: no such file or folder")]
    [InlineData("embed --checkpoint CKPT --images EMPTY --output f.npy", "--images EMPTY: no pictures found (JPEG, PNG, GIF, BMP or WebP)")]
    [InlineData("pretrain --linear-eval bogus", "--linear-eval bogus: expected augmented, cached or unshuffled")]
    public void ARefusalNamesTheOptionItCameFrom(string command, string expected)
    {
        var dir = TempDir.Create();
        Directory.CreateDirectory(Path.Combine(dir, "EMPTY"));
        var (code, stdout, stderr) = CliRunner.Run(dir, command.Replace("CKPT", tiny.Checkpoint).Split(' '));
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr);
        Assert.False(File.Exists(Path.Combine(dir, "f.npy")), stdout);
    }

    [RequiresFact(Need.Numpy)]
    public void EmbedWritesNpyFilesThatNumpyReads()
    {
        var dir = TempDir.Create();
        var features = Path.Combine(dir, "test.npy");
        var (code, _, stderr) = CliRunner.Run(dir, "embed", "--checkpoint", tiny.Checkpoint, "--split", "test", "--limit-batches", "2", "--batch-size", "64", "--output", features);
        Assert.True(code == 0, stderr);
        var script = $"import numpy as np; a = np.load('{features}'); l = np.load('{Path.Combine(dir, "test_labels.npy")}'); print(a.shape, a.dtype, l.shape, l.dtype, l[:3].tolist())";
        var info = new System.Diagnostics.ProcessStartInfo(ReferenceFixtures.Python, ["-c", script]) { RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(info)!;
        var printed = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        // resnet18 at width 4: h = 8 * 4 = 32 features; the first Fashion-MNIST test labels are 9, 2, 1.
        Assert.Equal("(128, 32) float32 (128,) int64 [9, 2, 1]", printed);
    }

    [Fact]
    public void EmbedInBf16MixedGivesFloat32FeaturesWithinBfloat16sRounding()
    {
        var dir = TempDir.Create();
        float[] Embed(string precision)
        {
            var path = Path.Combine(dir, $"{precision}.npy");
            var (code, _, stderr) = CliRunner.Run(dir, "embed", "--checkpoint", tiny.Checkpoint, "--split", "test", "--limit-batches", "1", "--batch-size", "64",
                "--precision", precision, "--output", path);
            Assert.True(code == 0, stderr);
            return Aavae.IO.Npy.ReadFloat32(path).Data;
        }
        var full = Embed("32");
        var bf16 = Embed("bf16-mixed");
        double scale = full.Max(MathF.Abs), worst = full.Zip(bf16, (a, b) => Math.Abs(a - b)).Max();
        // bfloat16 keeps 8 significant bits (relative rounding 2^-9 per value); through a few dozen layers
        // the features move by a few percent of their range, and never by nothing (the cast happened).
        Assert.InRange(worst / scale, 1e-6, 0.05);
        var refused = CliRunner.Run(dir, "embed", "--checkpoint", tiny.Checkpoint, "--split", "test", "--precision", "16-mixed", "--device", "cpu", "--output", "x.npy");
        Assert.Equal(2, refused.Code);
        Assert.Contains("--precision 16-mixed (float16) runs on CUDA only; on a CPU use bf16-mixed", refused.Err);
    }

    [Fact]
    public void EmbedOfAUsersArrayMatchesTheSplitsFeatures()
    {
        // The first two test images, normalised as the evaluation view does, given as an array:
        // their features must equal the ones embed computes for the split.
        var dir = TempDir.Create();
        using var data = Aavae.Data.DataModule.Load("fashion-mnist", null);
        var views = new Aavae.Augmentation.Views(data.Info, TorchSharp.torch.CPU);
        var (images, _) = data.Test.GetBatch(new long[] { 0, 1 });
        using var x = views.Eval(images).contiguous();
        var input = Path.Combine(dir, "batch.npy");
        Aavae.IO.Npy.Write(input, x.data<float>().ToArray(), x.shape);

        var own = Path.Combine(dir, "own.npy");
        var split = Path.Combine(dir, "split.npy");
        Assert.Equal(0, CliRunner.Run(dir, "embed", "--checkpoint", tiny.Checkpoint, "--input", input, "--output", own).Code);
        Assert.Equal(0, CliRunner.Run(dir, "embed", "--checkpoint", tiny.Checkpoint, "--split", "test", "--limit-batches", "1", "--batch-size", "2", "--output", split).Code);
        var (a, shapeA) = Aavae.IO.Npy.ReadFloat32(own);
        var (b, shapeB) = Aavae.IO.Npy.ReadFloat32(split);
        Assert.Equal(new long[] { 2, 32 }, shapeA);
        Assert.Equal(shapeB, shapeA);
        for (int i = 0; i < a.Length; i++) Assert.Equal(b[i], a[i], 5);
    }

    [Fact]
    public void EmbedOfAWrongSizedArrayIsRefused()
    {
        var dir = TempDir.Create();
        var input = Path.Combine(dir, "batch.npy");
        Aavae.IO.Npy.Write(input, new float[2 * 3 * 28 * 28], [2, 3, 28, 28]);
        var (code, _, stderr) = CliRunner.Run(dir, "embed", "--checkpoint", tiny.Checkpoint, "--input", input, "--output", Path.Combine(dir, "f.npy"));
        Assert.Equal(2, code);
        Assert.Contains("N x 3 x 32 x 32", stderr);
    }
}

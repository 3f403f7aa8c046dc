using System.Text;

namespace Aavae.Tests.Cli;

/// <summary>
/// Each class of bad input or unusable flag that once aborted the process (exit 134, an unhandled
/// exception) or said too little: now one printable line naming the file or flag, exit 2 (bad input)
/// or 1 (the machine), and nothing written.
/// </summary>
[Trait(Category.Name, Category.Slow)]
public class HostileInputTests(TinyRun tiny) : IClassFixture<TinyRun>
{
    private static readonly string[] Small = PretrainCommandTests.Small;

    private static void AssertOneLine(int expectedCode, string expected, (int Code, string Out, string Err) result, string? alsoNamed = null)
    {
        var (code, _, err) = result;
        // The convolution guard's notes (a layer rerouted on this CPU, or under an ISA cap) are not the error.
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("aavae: convolution check: ", StringComparison.Ordinal)).ToArray();
        Assert.True(code == expectedCode, $"exit {code}: {err}");
        var line = Assert.Single(lines);
        Assert.StartsWith("aavae: error: ", line);
        Assert.Contains(expected, line);
        if (alsoNamed is not null) Assert.Contains(alsoNamed, line);
        Assert.DoesNotContain(line, c => char.IsControl(c) && c != '\r');
    }

    [Fact]
    public void ShowViewsLeavesAnExistingPictureAloneUnlessToldToReplaceIt()
    {
        var dir = TempDir.Create();
        var png = Path.Combine(dir, "views.png");
        File.WriteAllBytes(png, [1, 2, 3]);
        AssertOneLine(2, $"--output {png} already exists; pass another --output or --overwrite", CliRunner.Run(dir, "show-views", "--output", png));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(png));
        var (code, _, err) = CliRunner.Run(dir, "show-views", "--output", png, "--overwrite");
        Assert.True(code == 0, err);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(png)[..4]);
    }

    [Fact]
    public void ASafetensorsHeaderLongerThanItsFileIsRefusedBeforeItIsAllocated()
    {
        var dir = TempDir.Create();
        var path = Path.Combine(dir, "w.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes(1_500_000_000UL), (byte)'{', (byte)'}']);
        AssertOneLine(2, $"{path}: not a readable safetensors file (its header says 1500000000 bytes, the file holds 2 after the length)",
            CliRunner.Run(dir, "knn", "--checkpoint", path, "--device", "cpu"));
    }

    [Theory]
    [InlineData("2,0,255,255,255,127", "header says it is 2147483647 bytes long")]
    [InlineData("1,0,70,0", "is not a tuple of whole numbers")]
    public void EmbedOfADamagedArrayNamesIt(string prefix, string expected)
    {
        var dir = TempDir.Create();
        var input = Path.Combine(dir, "in.npy");
        var header = Encoding.ASCII.GetBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (ab, 3), }".PadRight(69) + "\n");
        File.WriteAllBytes(input, [0x93, .. "NUMPY"u8.ToArray(), .. prefix.Split(',').Select(byte.Parse), .. header]);
        var output = Path.Combine(dir, "out.npy");
        AssertOneLine(2, expected, CliRunner.Run(dir, "embed", "--checkpoint", tiny.Checkpoint, "--input", input, "--output", output), alsoNamed: $"{input}: ");
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void NanPixelsAreRefusedNotEncoded()
    {
        var dir = TempDir.Create();
        var input = Path.Combine(dir, "in.npy");
        var pixels = new float[2 * 3 * 32 * 32];
        pixels[5] = float.NaN;
        Aavae.IO.Npy.Write(input, pixels, [2, 3, 32, 32]);
        var output = Path.Combine(dir, "out.npy");
        AssertOneLine(2, $"{input}: 1 of its values are NaN or infinite", CliRunner.Run(dir, "embed", "--checkpoint", tiny.Checkpoint, "--input", input, "--output", output));
        Assert.False(File.Exists(output));
    }

    [Theory]
    [InlineData("--log-scale", "nan", "--log-scale must be a finite number, got NaN")]
    [InlineData("--output", "", "--output must name a folder, got an empty string")]
    [InlineData("--output", "afile", "--output afile is a file; expected a run folder")]
    public void PretrainFlagsThatCannotWorkAreNamedBeforeAnythingLoads(string flag, string value, string expected)
    {
        var dir = TempDir.Create();
        File.WriteAllText(Path.Combine(dir, "afile"), "mine");
        AssertOneLine(2, expected, CliRunner.Run(dir, ["pretrain", .. Small, flag, value, .. flag == "--output" ? Array.Empty<string>() : ["--output", "run"]]));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(dir, "afile")));
        Assert.False(Directory.Exists(Path.Combine(dir, "run")));
    }

    [Fact]
    public void AModelTooLargeForMemorySaysWhichFlagToLower()
    {
        var dir = TempDir.Create();
        AssertOneLine(1, "lower --width, --batch-size or --input-size",
            CliRunner.Run(dir, ["pretrain", "--encoder", "resnet18", "--width", "100000", "--latent-dim", "8", "--device", "cpu", "--output", "run"]));
        Assert.False(Directory.Exists(Path.Combine(dir, "run")));
    }

    [Fact]
    public void EmbedOfZeroBatchesIsRefused() =>
        AssertOneLine(2, "--limit-batches must be >= 1, got 0",
            CliRunner.Run(TempDir.Create(), "embed", "--checkpoint", tiny.Checkpoint, "--split", "test", "--limit-batches", "0", "--output", "x.npy"));

    [Fact]
    public void ADamagedMetricsLogIsNamedOnResumeAndTheRunIsLeftAlone()
    {
        var dir = TempDir.Create();
        var (code, _, err) = CliRunner.Run(dir, ["pretrain", .. Small, "--max-epochs", "2", "--limit-train-batches", "1", "--limit-val-batches", "0", "--max-steps", "1", "--output", "run"]);
        Assert.True(code == 0, err);
        var metrics = Path.Combine(dir, "run", "metrics.csv");
        var damaged = File.ReadAllText(metrics).Replace("0", "\0x");
        File.WriteAllText(metrics, damaged);
        AssertOneLine(2, $"{Path.Combine("run", "metrics.csv")}: line 2", CliRunner.Run(dir, "pretrain", "--resume", "run"));
        Assert.Equal(damaged, File.ReadAllText(metrics));
    }
}

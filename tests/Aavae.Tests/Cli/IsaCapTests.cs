using Aavae.Kernels;

namespace Aavae.Tests.Cli;

/// <summary>
/// Small training runs through the command line under oneDNN's instruction-set caps, so that one
/// machine tests the kernels of the CPUs below its own (an AVX2-only AMD Zen 3, an AVX one, SSE4.1):
/// the width-4 channels-last model meets the AVX2 weight-gradient kernel that corrupts memory
/// (<see cref="Kernels.KernelTrialTests"/>), which the guard must route around for the run to finish.
/// </summary>
[Trait(Category.Name, Category.Slow)]
public class IsaCapTests
{
    private static (int Code, string Out, string Err) SmallRun(string? isa, int threads, string? dir = null)
    {
        var environment = new Dictionary<string, string>();
        if (isa is not null) environment[TrialHost.IsaVariable] = isa;
        return CliRunner.Run(dir ?? TempDir.Create(), environment,
            ["pretrain", .. PretrainCommandTests.Small, "--precision", "32", "--batch-size", "16", "--max-steps", "2", "--limit-val-batches", "2", "--threads", $"{threads}", "--output", "run"]);
    }

    [RequiresCpuFlagTheory("avx2")]
    [InlineData(1)]
    [InlineData(2)]
    public void TheWidth4ChannelsLastRunFinishesUnderTheAvx2CapWithTheBrokenKernelRoutedAround(int threads)
    {
        var dir = TempDir.Create();
        var (code, stdout, stderr) = SmallRun("AVX2", threads, dir);
        Assert.True(code == 0, $"exit {code}: {stdout}{stderr}");
        const string call = "conv 4->8 1x1 stride 2 pad 0 on 16x4x32x32 channels_last float32 with backward: native ";
        Assert.Contains($"convolution check: {call}", stdout);
        Assert.Contains("done: ", stdout);
        // The run's record keeps what the guard rerouted on the way.
        using var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "run", "config.json")));
        var rerouted = config.RootElement.GetProperty("kernel_check").GetProperty("calls_rerouted").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(rerouted, r => r.StartsWith(call, StringComparison.Ordinal));
    }

    [RequiresCpuFlagTheory("avx")]
    [InlineData("AVX")]
    [InlineData("SSE41")]
    [InlineData(null)]
    public void TheWidth4ChannelsLastRunFinishesUnderTheLowerCapsAndUncapped(string? isa)
    {
        var (code, stdout, stderr) = SmallRun(isa, 2);
        Assert.True(code == 0, $"exit {code}: {stdout}{stderr}");
        Assert.Contains("done: ", stdout);
    }
}

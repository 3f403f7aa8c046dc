using Aavae.Kernels;
using Aavae.Runtime;
using Aavae.Models;
using Aavae.Training;
using TorchSharp;
using static TorchSharp.torch;
using Aavae.Options;

namespace Aavae.Diagnostics;

/// <summary>
/// The convolution check of one network: its shapes' values (<see cref="KernelReport"/>) and the
/// problems of a training step at <paramref name="Batch"/> images and of an encoding pass at
/// <paramref name="EvalBatch"/>, each run once at its real size in the trial process.
/// </summary>
public sealed record NetworkCheck(string Network, KernelReport Check, long Batch, long EvalBatch, IReadOnlyList<ProblemDecision> Problems)
{
    public IEnumerable<ProblemDecision> Rerouted => Problems.Where(p => p.Rerouted && p.Route is not null);

    public IEnumerable<ProblemDecision> Unfinished => Problems.Where(p => p.Route is null);

    /// <summary>Calls whose value check (a smaller batch) ran other oneDNN kernels than the call itself.</summary>
    public IEnumerable<ProblemDecision> CheckedByOtherKernels => Problems.Where(p => p.CheckedTheSameKernels == false);
}

/// <summary>
/// What the engine underneath is and whether it computes right on this machine: versions, CPU and
/// instruction set, threads, allocator tuning, and the convolution check over the networks the
/// presets build (what <c>aavae doctor</c> prints).
/// </summary>
public sealed record EngineReport(
    string TorchSharpVersion, string LibTorchVersion, string Cpu, string CpuIsa, string OneDnnIsa,
    int Threads, int InteropThreads, bool MallocTuned, HeapReuse? HeapReuse, IReadOnlyList<NetworkCheck> Checks)
{
    /// <summary>True when some convolution is wrong, or never finishes, and no fallback helps: training here would be wrong or would not run.</summary>
    public bool Broken => Checks.Any(c => c.Check.Unfixable.Any() || c.Unfinished.Any());

    /// <summary>The name that selects the test suite's small networks (widths 4 and 8, batch 16) beside the presets'.</summary>
    public const string TestNetworks = "tests";

    /// <summary>Measured on the calling thread: call it from the process's main thread for the heap figure to mean what the command line gets (<see cref="HeapReuseProbe"/>).</summary>
    /// <param name="guard">The guard whose trial process runs the checks: <see cref="KernelGuard.Shared"/>, or one whose host is capped at a lower instruction set (<see cref="TrialHost.CappedAt"/>).</param>
    /// <param name="isaCap">The cap that guard's trial process runs under, for the report; null: the environment's.</param>
    /// <param name="networks">Which networks to check: preset names and <see cref="TestNetworks"/>; null: all of them.</param>
    public static EngineReport Measure(Device device, KernelGuard guard, string? isaCap = null, IReadOnlyCollection<string>? networks = null)
    {
        TorchRuntime.EnsureLoaded();
        var all = Presets.Names.Select(n => (Key: n, Name: $"preset {n}", Options: Presets.Get(n).Model, Batch: (long)Presets.Get(n).Data.BatchSize))
            .Append((Key: TestNetworks, Name: "resnet18 width 4 (tests)", Options: new ModelOptions { Encoder = "resnet18", Width = 4, LatentDim = 8 }, Batch: 16L))
            .Append((Key: TestNetworks, Name: "resnet18 width 8 (tests)", Options: new ModelOptions { Encoder = "resnet18", Width = 8, LatentDim = 16 }, Batch: 16L));
        var chosen = all.Where(n => networks is null || networks.Contains(n.Key)).Select(n => (n.Name, n.Options, n.Batch));
        const long evalBatch = 256;
        var checks = new List<NetworkCheck>();
        foreach (var (name, options, batch) in chosen)
        {
            using var model = new AavaeModel(options);
            // Checked in the layout training runs in: oneDNN picks other kernels for channels-last tensors.
            ChannelsLast.Apply(model, new TrainerOptions().MemoryFormat);
            var shapes = guard.Protect(model, device);
            var problems = device.type == DeviceType.CPU && guard.Isolated
                ? ConvWorkload.TrainingStep(model, batch).Concat(ConvWorkload.Encoding(model, evalBatch)).Distinct()
                    .Select(p => guard.Route(p, device)).ToList()
                : [];
            checks.Add(new NetworkCheck($"{name}: {options.Encoder} width {options.Width}, {options.Stem.ToString().ToLowerInvariant()} stem", shapes, batch, evalBatch, problems));
        }
        var flags = CpuFlags();
        var cap = isaCap ?? Environment.GetEnvironmentVariable(TrialHost.IsaVariable) ?? Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA");
        return new EngineReport(
            typeof(torch).Assembly.GetName().Version?.ToString() ?? "?", __version__, CpuModel(), Isa(flags),
            cap is not null ? $"capped at {cap.ToLowerInvariant()} (the CPU offers {Isa(flags)})" : $"{Isa(flags)}, the highest the CPU offers (no {TrialHost.IsaVariable} cap)",
            get_num_threads(), get_num_interop_threads(), NativeMemory.TuneAllocator(), HeapReuseProbe.Measure(), checks);
    }

    private static string Field(string name) => CpuInfo.Field(CpuInfo.Lines, name);

    private static string CpuModel()
    {
        var model = Field("model name");
        var family = Field("cpu family");
        return model.Length == 0
            ? $"{System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture} ({Environment.ProcessorCount} logical cores)"
            : $"{model}, family {family}, {Environment.ProcessorCount} logical cores";
    }

    private static HashSet<string> CpuFlags() => [.. Field("flags").Split(' ', StringSplitOptions.RemoveEmptyEntries)];

    /// <summary>The vector extensions oneDNN dispatches on, in its own naming.</summary>
    private static string Isa(HashSet<string> flags) =>
        flags.Contains("amx_tile") ? "avx512_core_amx"
        : flags.Contains("avx512_bf16") ? "avx512_core_bf16"
        : flags.Contains("avx512_vnni") ? "avx512_core_vnni"
        : flags.Contains("avx512f") ? "avx512_core"
        : flags.Contains("avx2") ? "avx2"
        : flags.Contains("avx") ? "avx"
        : flags.Count > 0 ? "sse41 or lower"
        : System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
}

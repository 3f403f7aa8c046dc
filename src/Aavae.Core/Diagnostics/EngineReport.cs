using Aavae.Kernels;
using Aavae.Runtime;
using Aavae.Models;
using Aavae.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Diagnostics;

/// <summary>
/// What the engine underneath is and whether it computes right on this machine: versions, CPU and
/// instruction set, threads, allocator tuning, and the convolution check over the networks the
/// presets build (what <c>aavae doctor</c> prints).
/// </summary>
public sealed record EngineReport(
    string TorchSharpVersion, string LibTorchVersion, string Cpu, string CpuIsa, string OneDnnIsa,
    int Threads, int InteropThreads, bool MallocTuned, HeapReuse? HeapReuse, IReadOnlyList<(string Network, KernelReport Check)> Checks)
{
    /// <summary>True when some convolution is wrong and no fallback is right: training here would be wrong.</summary>
    public bool Broken => Checks.Any(c => c.Check.Unfixable.Any());

    /// <summary>Measured on the calling thread: call it from the process's main thread for the heap figure to mean what the command line gets (<see cref="HeapReuseProbe"/>).</summary>
    public static EngineReport Measure(Device device)
    {
        TorchRuntime.EnsureLoaded();
        var networks = Presets.Names.Select(n => (Name: $"preset {n}", Presets.Get(n).Model))
            .Append(("resnet18 width 8 (tests)", new ModelOptions { Encoder = "resnet18", Width = 8, LatentDim = 16 }));
        var checks = new List<(string, KernelReport)>();
        foreach (var (name, options) in networks)
        {
            using var model = new AavaeModel(options);
            // Checked in the layout training runs in: oneDNN picks other kernels for channels-last tensors.
            ChannelsLast.Apply(model, new PretrainOptions().MemoryFormat);
            checks.Add(($"{name}: {options.Encoder} width {options.Width}, {options.Stem.ToString().ToLowerInvariant()} stem", KernelGuard.Shared.Protect(model, device)));
        }
        var flags = CpuFlags();
        return new EngineReport(
            typeof(torch).Assembly.GetName().Version?.ToString() ?? "?", __version__, CpuModel(), Isa(flags),
            Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA") is { } cap ? $"capped at {cap.ToLowerInvariant()} by DNNL_MAX_CPU_ISA (the CPU offers {Isa(flags)})" : $"{Isa(flags)}, the highest the CPU offers (no DNNL_MAX_CPU_ISA cap)",
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

using Aavae.Runtime;
using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Kernels;

/// <summary>What the guard found for one convolution shape and the route it chose (null: none is right).</summary>
public sealed record ConvDecision(ConvShape Shape, ConvError Native, bool ForcedBroken, ConvRoute? Route, ConvError? RouteError,
    double Tolerance = ConvCheck.Tolerance)
{
    public bool NativeIsRight => !ForcedBroken && Native.Max <= Tolerance;

    /// <summary>The native kernel was not run: it is known to kill the process on this CPU.</summary>
    public bool NativeCrashes => ReferenceEquals(Native, ConvError.Crashes);

    public override string ToString() => NativeIsRight
        ? $"{Shape}: right"
        : $"{Shape}: {(NativeCrashes ? Native.ToString() : ForcedBroken ? "counted as broken" : $"wrong ({Native})")} -> {(Route is { } r ? $"computed by the {RouteName(r)} route" : "no route is right")}";

    public static string RouteName(ConvRoute route) => route switch
    {
        ConvRoute.PaddedOutput => $"padded-to-{ConvRoutes.PaddedChannels}-output-channels",
        ConvRoute.Im2col => "unfold+matmul",
        ConvRoute.Subsampled => "subsampled-1x1",
        _ => "native",
    };
}

/// <summary>The guard's verdict over a model: one decision per distinct convolution shape.</summary>
public sealed record KernelReport(string Device, int Threads, IReadOnlyList<ConvDecision> Decisions)
{
    public IEnumerable<ConvDecision> Rerouted => Decisions.Where(d => !d.NativeIsRight && d.Route is not null);

    public IEnumerable<ConvDecision> Unfixable => Decisions.Where(d => d.Route is null);

    public bool AllNative => Decisions.All(d => d.NativeIsRight);

    /// <summary>One line for the user; null when every native kernel is right and nothing changed.</summary>
    public string? Summary => AllNative ? null
        : Unfixable.Any()
            ? $"convolution check: libtorch computes wrong results on this CPU for {string.Join("; ", Unfixable.Select(d => d.Shape))} and no fallback is right either"
            : $"convolution check: libtorch computes wrong gradients on this CPU for {Rerouted.Count()} of {Decisions.Count} layer shapes; rerouted ({string.Join("; ", Rerouted)})";

    /// <summary>The record kept in a run's config.json.</summary>
    public Dictionary<string, object?> ToJson() => new()
    {
        ["device"] = Device,
        ["threads"] = Threads,
        ["shapes_checked"] = Decisions.Count,
        ["all_native"] = AllNative,
        ["rerouted"] = Rerouted.Select(d => new Dictionary<string, object?>
        {
            ["shape"] = d.Shape.ToString(),
            ["native_error"] = d.NativeCrashes ? "crashes" : d.ForcedBroken ? "forced" : d.Native.ToString(),
            ["route"] = ConvDecision.RouteName(d.Route!.Value),
        }).ToList(),
        ["unfixable"] = Unfixable.Select(d => d.Shape.ToString()).ToList(),
    };
}

/// <summary>A convolution is wrong on this CPU and no fallback route is right either.</summary>
public sealed class KernelCheckException(string message) : Exception(message);

/// <summary>
/// Checks, before a model trains, that libtorch computes each distinct convolution shape of the
/// model right on this CPU, float32 against float64, output and all gradients (libtorch 2.10's
/// oneDNN gets input gradients wrong for layers with under 16 output channels on AMD Zen 5). A
/// wrong shape is routed through the first fallback that checks right; on a CPU where every check
/// passes nothing changes. Verdicts are cached per device, thread count and shape for the
/// process, since the kernels libtorch picks depend only on those.
/// </summary>
public sealed class KernelGuard(Func<ConvShape, bool>? forceBroken = null)
{
    /// <summary>The process's guard, whose cache every trainer shares.</summary>
    public static KernelGuard Shared { get; } = new();

    /// <summary>
    /// Trials per route: one at the run's thread count, the kernels training will use, and one on a
    /// single thread, where the oneDNN bug seen on Zen 5 shows every time (with two threads it showed
    /// in most trials, not all); a shape wrong in either counts as wrong.
    /// </summary>
    private static readonly (ulong Seed, bool SingleThread)[] Trials = [(1234, false), (1235, true)];

    private readonly ConcurrentDictionary<(ConvShape, string, int, MemoryFormat, ScalarType?), ConvDecision> verdicts = new();

    public ConvDecision Decide(ConvShape shape, Device device, MemoryFormat format = MemoryFormat.Contiguous, ScalarType? computeType = null) =>
        verdicts.GetOrAdd((shape, device.ToString(), get_num_threads(), format, computeType), _ => Check(shape, device, format, computeType));

    private ConvDecision Check(ConvShape shape, Device device, MemoryFormat format, ScalarType? computeType)
    {
        double tolerance = ConvCheck.ToleranceFor(computeType);
        // A native kernel known to kill the process is not run, even to check it: it counts as broken.
        bool crashes = KnownCrashes.NativeCrashes(shape, device);
        var native = crashes ? ConvError.Crashes : Worst(shape, ConvRoute.Native, device, format, computeType);
        bool forced = crashes || forceBroken?.Invoke(shape) == true;
        if (!forced && native.Max <= tolerance) return new ConvDecision(shape, native, false, ConvRoute.Native, native, tolerance);
        foreach (var route in ConvRoutes.FallbacksFor(shape))
        {
            var error = Worst(shape, route, device, format, computeType);
            if (error.Max <= tolerance) return new ConvDecision(shape, native, forced, route, error, tolerance);
        }
        return new ConvDecision(shape, native, forced, null, null, tolerance);
    }

    private static ConvError Worst(ConvShape shape, ConvRoute route, Device device, MemoryFormat format, ScalarType? computeType)
    {
        ConvError? worst = null;
        int threads = get_num_threads();
        foreach (var (seed, singleThread) in Trials)
        {
            if (singleThread && (threads == 1 || device.type != DeviceType.CPU)) continue;
            if (singleThread) set_num_threads(1);
            try
            {
                var e = ConvCheck.Measure(shape, route, device, seed, format, computeType);
                if (worst is null || e.Max > worst.Max) worst = e;
            }
            finally
            {
                if (singleThread) set_num_threads(threads);
            }
        }
        return worst!;
    }

    /// <summary>
    /// Checks every convolution shape in <paramref name="model"/> on <paramref name="device"/>, in the
    /// compute type (float32, or bfloat16 under mixed precision) and memory format of the layer's weight (which decides the layout libtorch computes in), and sets each layer's route.
    /// </summary>
    public KernelReport Protect(nn.Module model, Device device)
    {
        var layers = model.modules().OfType<GuardedConv2d>().ToList();
        (ConvShape, MemoryFormat, ScalarType?) KeyOf(GuardedConv2d layer) =>
            (layer.Shape, ChannelsLast.Is(layer.weight!) ? MemoryFormat.ChannelsLast : MemoryFormat.Contiguous, layer.ComputeType);
        var decisions = layers.Select(KeyOf).Distinct().ToDictionary(k => k, k => Decide(k.Item1, device, k.Item2, k.Item3));
        foreach (var layer in layers)
            if (decisions[KeyOf(layer)].Route is { } route) layer.Route = route;
        return new KernelReport(device.ToString(), get_num_threads(), decisions.Values.ToList());
    }
}

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
        : $"{Shape}: {(NativeCrashes || Native.Failure is not null ? Native.ToString() : ForcedBroken ? "counted as broken" : $"wrong ({Native})")} -> {(Route is { } r ? $"computed by the {RouteName(r)} route" : "no route is right")}";

    public static string RouteName(ConvRoute route) => route switch
    {
        ConvRoute.PaddedOutput => $"padded-to-{ConvRoutes.PaddedChannels}-output-channels",
        ConvRoute.Im2col => "unfold+matmul",
        ConvRoute.Subsampled => "subsampled-1x1",
        ConvRoute.Contiguous => "contiguous-layout",
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

/// <summary>
/// What the guard found when it ran one <see cref="ConvProblem"/> at its real size in the trial
/// process: the routes it tried in order, how each ended, and the first that finished (null: none did).
/// </summary>
public sealed record ProblemDecision(ConvProblem Problem, IReadOnlyList<(ConvRoute Route, TrialOutcome Outcome)> Tried, ConvRoute? Route)
{
    /// <summary>
    /// The oneDNN kernels that computed this call at its real size and those that ran in the value
    /// check of its route (a smaller batch): the check speaks for the call when they are the same.
    /// </summary>
    public (IReadOnlyList<string> Run, IReadOnlyList<string> Check)? Kernels { get; init; }

    /// <summary>
    /// Whether the value check ran, for each direction the call runs (forward, backward-data,
    /// backward-weights), the kernels the call runs; null where it is not known.
    /// </summary>
    public bool? CheckedTheSameKernels
    {
        get
        {
            if (Kernels is not { } k) return null;
            // "forward_training" and "forward_inference" are one direction: the call may run without autograd, the check never does.
            static ILookup<string, string> ByDirection(IEnumerable<string> kernels) => kernels.Select(x => x.Split(' ', 2))
                .ToLookup(x => x[0].StartsWith("forward", StringComparison.Ordinal) ? "forward" : x[0], x => x[1]);
            var run = ByDirection(k.Run);
            var check = ByDirection(k.Check);
            return run.All(direction => direction.ToHashSet().SetEquals(check[direction.Key]));
        }
    }

    /// <summary>Something other than libtorch's own kernel computes this problem (or nothing can).</summary>
    public bool Rerouted => Route != ConvRoute.Native;

    public override string ToString() =>
        $"{Problem}: " + string.Join("; ", Tried.Select(t => $"{ConvDecision.RouteName(t.Route)} {t.Outcome}"))
        + (Route is { } r ? (Rerouted ? $" -> computed by the {ConvDecision.RouteName(r)} route" : "") : " -> no route finishes");
}

/// <summary>A convolution is wrong on this CPU and no fallback route is right either.</summary>
public sealed class KernelCheckException(string message) : Exception(message);

/// <summary>
/// Checks that libtorch computes each convolution of a model right on this CPU, and routes around
/// the ones that do not. Two checks, both run in a child process where a trial process host exists
/// (<see cref="TrialHost"/>), because oneDNN's kernels can abort, fault or hang the process that runs them:
/// <list type="number">
/// <item>Values, per distinct shape, layout and compute type, before the model runs: float32 (or the
/// mixed-precision type) against float64 on a small input, output and all three gradients
/// (libtorch 2.10's oneDNN gets input gradients wrong for layers with under 16 output channels on
/// AMD Zen 5). A wrong shape takes the first fallback route that checks right.</item>
/// <item>Completion, per <see cref="ConvProblem"/>, when a layer first meets it: the call at its real
/// batch, size, layout and type, with its backward pass when gradients will flow, run once in the
/// trial process under a time limit (narrow channels-last 1x1 stride-2 weight gradients corrupt
/// memory or spin for ever on AVX2 CPUs, at some batch sizes and not others). One that crashes or
/// hangs takes the contiguous layout or another route, whichever first finishes and checks right.</item>
/// </list>
/// On a CPU where everything passes nothing changes. Verdicts are cached for the process per device,
/// thread count and problem, since the kernels libtorch picks depend only on those. Without a trial
/// process host (a library used without the <c>aavae</c> program) the value check runs in this
/// process and the completion check is skipped.
/// </summary>
public sealed class KernelGuard(Func<ConvShape, bool>? forceBroken = null, TrialHost? host = null) : IDisposable
{
    /// <summary>The process's guard, whose cache every trainer shares; its trial process host is <see cref="TrialHost.Discover"/>'s.</summary>
    public static KernelGuard Shared { get; } = new(host: TrialHost.Discover());

    private readonly KernelTrials? trials = host is null ? null : new KernelTrials(host);
    private readonly ConcurrentDictionary<(ConvShape, string, int, MemoryFormat, ScalarType?), ConvDecision> verdicts = new();
    private readonly ConcurrentDictionary<(ConvShape, int, MemoryFormat, ScalarType?, ConvRoute), ConvError> checks = new();
    private readonly ConcurrentDictionary<(ConvProblem, int), ProblemDecision> problems = new();

    /// <summary>Whether checks run in a child process (<see cref="TrialHost"/>) rather than in this one.</summary>
    public bool Isolated => trials is not null;

    /// <summary>Every problem tried so far (in no particular order).</summary>
    public IReadOnlyList<ProblemDecision> Problems => problems.Values.ToList();

    public ConvDecision Decide(ConvShape shape, Device device, MemoryFormat format = MemoryFormat.Contiguous, ScalarType? computeType = null) =>
        verdicts.GetOrAdd((shape, device.ToString(), get_num_threads(), format, computeType), _ => Check(shape, device, format, computeType));

    private ConvDecision Check(ConvShape shape, Device device, MemoryFormat format, ScalarType? computeType)
    {
        double tolerance = ConvCheck.ToleranceFor(computeType);
        // A native kernel known to kill the process is not run, even to check it: it counts as broken.
        bool crashes = KnownCrashes.NativeCrashes(shape, device);
        var native = crashes ? ConvError.Crashes : Measure(shape, ConvRoute.Native, device, format, computeType);
        bool forced = crashes || forceBroken?.Invoke(shape) == true;
        if (!forced && native.Max <= tolerance) return new ConvDecision(shape, native, false, ConvRoute.Native, native, tolerance);
        foreach (var route in ConvRoutes.FallbacksFor(shape))
        {
            var error = Measure(shape, route, device, format, computeType);
            if (error.Max <= tolerance) return new ConvDecision(shape, native, forced, route, error, tolerance);
        }
        return new ConvDecision(shape, native, forced, null, null, tolerance);
    }

    /// <summary>The worst float64 error of a route over the check's seeds, in the trial process when there is one.</summary>
    private ConvError Measure(ConvShape shape, ConvRoute route, Device device, MemoryFormat format, ScalarType? computeType)
    {
        if (trials is null || device.type != DeviceType.CPU)
        {
            if (device.type == DeviceType.CPU) return KernelTrial.Worst(shape, route, format, computeType);
            return ConvCheck.Measure(shape, route, device, 1234, format, computeType);
        }
        int threads = get_num_threads();
        return checks.GetOrAdd((shape, threads, format, computeType, route), _ =>
            trials.Check(new ConvProblem(shape, shape.CheckBatch, shape.CheckInputSize, shape.CheckInputSize, format, computeType, true), route, threads));
    }

    /// <summary>
    /// The route that computes <paramref name="problem"/>: the one the value check chose for its
    /// shape, layout and type when its trial at the real size finishes, else the first other route
    /// that finishes and checks right. Without a trial process, or off the CPU, the value check's route.
    /// </summary>
    public ProblemDecision Route(ConvProblem problem, Device device, Action<string>? notes = null)
    {
        // Every call of a protected layer comes here: a call tried before is one lookup.
        bool tryCalls = trials is not null && device.type == DeviceType.CPU;
        if (tryCalls && problems.TryGetValue((problem, get_num_threads()), out var known)) return known;
        var decision = Decide(problem.Shape, device, problem.Format, problem.ComputeType);
        var tried = new List<(ConvRoute, TrialOutcome)>();
        if (!decision.NativeIsRight)
            tried.Add((ConvRoute.Native, new TrialOutcome(decision.NativeCrashes || decision.Native.Failure is not null ? $"{decision.Native} in the value check" : decision.ForcedBroken ? "counted as broken" : $"wrong ({decision.Native})")));
        if (!tryCalls || decision.Route is not { } decided)
            return new ProblemDecision(problem, tried, decision.Route);
        int threads = get_num_threads();
        return problems.GetOrAdd((problem, threads), _ =>
        {
            double tolerance = ConvCheck.ToleranceFor(problem.ComputeType);
            IEnumerable<ConvRoute> candidates = [decided];
            if (problem.Format == MemoryFormat.ChannelsLast) candidates = candidates.Append(ConvRoute.Contiguous);
            foreach (var route in candidates.Concat(ConvRoutes.FallbacksFor(problem.Shape)).Distinct())
            {
                if (route != decided && Measure(problem.Shape, route, device, problem.Format, problem.ComputeType) is { } error && error.Max > tolerance)
                {
                    tried.Add((route, new TrialOutcome($"wrong ({error})")));
                    continue;
                }
                var outcome = trials!.Run(problem, route, threads);
                tried.Add((route, outcome));
                if (!outcome.IsFinished) continue;
                var check = Measure(problem.Shape, route, device, problem.Format, problem.ComputeType);
                var found = new ProblemDecision(problem, tried, route)
                {
                    Kernels = outcome.Kernels is { } run && check.Kernels is { } checkedKernels ? (run, checkedKernels) : null,
                };
                if (found.Rerouted) notes?.Invoke($"convolution check: {found}");
                return found;
            }
            return new ProblemDecision(problem, tried, null);
        });
    }

    /// <summary>
    /// Checks every convolution shape in <paramref name="model"/> on <paramref name="device"/>, in the
    /// compute type (float32, or bfloat16 under mixed precision) and memory format of the layer's
    /// weight (which decides the layout libtorch computes in), and sets each layer's route; from then
    /// on each layer has every new problem it meets tried before it runs it (<see cref="Route"/>),
    /// reporting a problem rerouted to <paramref name="notes"/>.
    /// </summary>
    public KernelReport Protect(nn.Module model, Device device, Action<string>? notes = null)
    {
        var layers = model.modules().OfType<GuardedConv2d>().ToList();
        // A 1x1 weight's strides fit both layouts: such a layer computes in the layout of the network around it.
        bool channelsLast = layers.Any(l => l.Shape.Kernel > 1 && ChannelsLast.Is(l.weight!));
        (ConvShape, MemoryFormat, ScalarType?) KeyOf(GuardedConv2d layer) =>
            (layer.Shape, (layer.Shape.Kernel == 1 ? channelsLast : ChannelsLast.Is(layer.weight!)) ? MemoryFormat.ChannelsLast : MemoryFormat.Contiguous, layer.ComputeType);
        var decisions = layers.Select(KeyOf).Distinct().ToDictionary(k => k, k => Decide(k.Item1, device, k.Item2, k.Item3));
        foreach (var layer in layers)
        {
            var decision = decisions[KeyOf(layer)];
            if (decision.Route is { } route) layer.Route = route;
            if (trials is not null && device.type == DeviceType.CPU && decision.Route is not null)
                layer.Router = problem => Route(problem, device, notes) is { Route: { } r } ? r
                    : throw new KernelCheckException($"convolution check: no route computes {Route(problem, device)}");
        }
        return new KernelReport(device.ToString(), get_num_threads(), decisions.Values.ToList());
    }

    public void Dispose() => trials?.Dispose();
}

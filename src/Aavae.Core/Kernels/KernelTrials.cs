using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Aavae.Kernels;

/// <summary>
/// How a trial ended: finished, or the failure that ended it (a signal, an error, a time limit); and
/// the oneDNN convolution kernels it ran, as "direction implementation" in the order first run
/// (from oneDNN's verbose log, which names a kernel when it returns: a crashed trial died in the
/// last one named or the one after it).
/// </summary>
public sealed record TrialOutcome(string? Failure, IReadOnlyList<string>? Kernels = null)
{
    public static TrialOutcome Finished { get; } = new((string?)null);

    public bool IsFinished => Failure is null;

    public override string ToString() => Failure is null ? "finished"
        : Kernels is { Count: > 0 } k ? $"{Failure} (last kernel that returned: {k[^1]})" : Failure;
}

/// <summary>
/// The guard's side of the trial process (<see cref="KernelTrial"/>): one child at a time, started
/// when first asked, kept for the next request, and started afresh after one that crashed or hung.
/// A request that does not return within its time limit counts as hung and its process is killed.
/// Requests are serialised: one convolution runs at a time, on the asker's thread count.
/// </summary>
public sealed class KernelTrials(TrialHost host) : IDisposable
{
    /// <summary>Time for the child to start and load libtorch.</summary>
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(120);

    private readonly object gate = new();
    private Process? child;
    private BlockingCollection<string>? replies;
    private ConcurrentQueue<string> errors = new();
    private int childThreads = -1;

    public TrialHost Host => host;

    /// <summary>
    /// Time allowed for one problem: 20 s (libtorch's first calls) plus the work, run twice (on one
    /// thread and on N), at a pessimistic 0.1 GFLOP/s, 0.01 through unfold+matmul; the slowest right
    /// kernel seen, on 2 cores, runs the presets' largest layer in under 2 s.
    /// </summary>
    public static TimeSpan LimitFor(ConvProblem problem, ConvRoute route)
    {
        double work = 2 * problem.MultiplyAdds * (problem.Backward ? 3 : 1);
        double rate = route == ConvRoute.Im2col ? 1e7 : 1e8;
        return TimeSpan.FromSeconds(20 + work / rate);
    }

    /// <summary>Runs <paramref name="problem"/> through <paramref name="route"/> at its real size in the trial process.</summary>
    /// <param name="limit">Null: <see cref="LimitFor"/>.</param>
    public TrialOutcome Run(ConvProblem problem, ConvRoute route, int threads, TimeSpan? limit = null) =>
        Ask($"run {route} {problem.ToLine()}", threads, limit ?? LimitFor(problem, route)).Outcome;

    /// <summary>The prefix under which the reader passes on a oneDNN verbose line naming a convolution kernel.</summary>
    private const string KernelLine = "kernel ";

    /// <summary>The trial process's id while one is running.</summary>
    public int? ProcessId
    {
        get
        {
            lock (gate) return child is { HasExited: false } ? child.Id : null;
        }
    }

    /// <summary>The float64 comparison of <paramref name="route"/> for the problem's shape, layout and type, in the trial process.</summary>
    public ConvError Check(ConvProblem problem, ConvRoute route, int threads)
    {
        var (outcome, reply) = Ask($"check {route} {problem.ToLine()}", threads, LimitFor(problem, route) + TimeSpan.FromSeconds(10));
        if (!outcome.IsFinished) return ConvError.Failed(outcome.ToString()) with { Kernels = outcome.Kernels };
        var v = reply!.Split(' ').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        return new ConvError(v[0], v[1], v[2], v[3]) { Kernels = outcome.Kernels };
    }

    private (TrialOutcome Outcome, string? Reply) Ask(string request, int threads, TimeSpan limit)
    {
        lock (gate)
        {
            if (child is null || child.HasExited) Start();
            if (childThreads != threads)
            {
                var set = Exchange($"threads {threads}", StartLimit, expectStarted: false);
                if (!set.Outcome.IsFinished) return set;
                childThreads = threads;
            }
            return Exchange(request, limit, expectStarted: true);
        }
    }

    private (TrialOutcome Outcome, string? Reply) Exchange(string request, TimeSpan limit, bool expectStarted)
    {
        try
        {
            child!.StandardInput.WriteLine(request);
            child.StandardInput.Flush();
        }
        catch (IOException)
        {
            return (Ended(), null);
        }
        var clock = Stopwatch.StartNew();
        var kernels = new List<string>();
        while (true)
        {
            var left = limit - clock.Elapsed;
            if (left <= TimeSpan.Zero || !replies!.TryTake(out var line, left))
            {
                if (replies!.IsCompleted) return (Ended() with { Kernels = kernels }, null);
                Kill();
                return (new TrialOutcome($"did not return within {limit.TotalSeconds:0.#} s (hung; its process was killed)", kernels), null);
            }
            if (line.StartsWith(KernelLine, StringComparison.Ordinal))
            {
                if (!kernels.Contains(line[KernelLine.Length..])) kernels.Add(line[KernelLine.Length..]);
                continue;
            }
            if (expectStarted && line == "started") continue;
            if (line.StartsWith("error ", StringComparison.Ordinal)) return (new TrialOutcome($"the trial process refused the request: {line[6..]}", kernels), null);
            return (new TrialOutcome(null, kernels), line);
        }
    }

    /// <summary>The child's output ended: it died. Its exit status and last error line say how.</summary>
    private TrialOutcome Ended()
    {
        var p = child!;
        // The untimed wait, once the process has gone, also drains its standard error.
        if (p.WaitForExit(10_000)) p.WaitForExit();
        int code = p.HasExited ? p.ExitCode : -1;
        p.Dispose();
        child = null;
        childThreads = -1;
        var said = errors.LastOrDefault(l => l.Trim().Length > 0)?.Trim();
        string how = code switch
        {
            134 => "aborted (SIGABRT)",
            139 => "segmentation fault (SIGSEGV)",
            136 => "arithmetic fault (SIGFPE)",
            135 => "bus error (SIGBUS)",
            137 => "killed (SIGKILL)",
            _ => $"exit code {code}",
        };
        return new TrialOutcome($"crashed: {how}{(said is null ? "" : $": {(said.Length > 160 ? said[..160] : said)}")}");
    }

    private void Start()
    {
        var info = host.StartInfo();
        info.Environment[KernelTrial.ParentVariable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        // oneDNN names each kernel it runs on standard output, flushed line by line: the trial's record of what ran.
        info.Environment["ONEDNN_VERBOSE"] = "1";
        var p = Process.Start(info) ?? throw new InvalidOperationException($"could not start the convolution trial process {info.FileName}");
        var queue = new BlockingCollection<string>();
        var log = new ConcurrentQueue<string>();
        var reader = new Thread(() =>
        {
            try
            {
                while (p.StandardOutput.ReadLine() is { } line)
                {
                    if (line.StartsWith(KernelTrial.Prefix, StringComparison.Ordinal)) queue.Add(line[(KernelTrial.Prefix.Length + 1)..]);
                    else if (Kernel(line) is { } kernel) queue.Add(KernelLine + kernel);
                }
            }
            catch (IOException) { }
            finally { queue.CompleteAdding(); }
        }) { IsBackground = true, Name = "kernel trial output" };
        reader.Start();
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            log.Enqueue(e.Data);
            while (log.Count > 20) log.TryDequeue(out string? _);
        };
        p.BeginErrorReadLine();
        (child, replies, errors, childThreads) = (p, queue, log, -1);
    }

    /// <summary>"backward_weights jit_1x1:avx2" from a oneDNN verbose line that executed a float32 or reduced-precision convolution; null for any other line.</summary>
    internal static string? Kernel(string line)
    {
        if (!line.StartsWith("onednn_verbose", StringComparison.Ordinal) || !line.Contains(",exec,", StringComparison.Ordinal)) return null;
        var fields = line.Split(',');
        int at = Array.IndexOf(fields, "convolution");
        if (at < 0 || at + 2 >= fields.Length || fields[(at + 3)..].Any(f => f.Contains("f64", StringComparison.Ordinal))) return null;
        return $"{fields[at + 2]} {fields[at + 1]}";
    }

    private void Kill()
    {
        try { child?.Kill(entireProcessTree: true); child?.WaitForExit(10_000); }
        catch (InvalidOperationException) { }
        child?.Dispose();
        child = null;
        childThreads = -1;
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (child is null) return;
            try { child.StandardInput.Close(); }
            catch (IOException) { }
            if (!child.WaitForExit(5_000)) Kill();
            child?.Dispose();
            child = null;
        }
    }
}

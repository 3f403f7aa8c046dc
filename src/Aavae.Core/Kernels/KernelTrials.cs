using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Aavae.Kernels;

/// <summary>How a trial ended: finished, or the failure that ended it (a signal, an error, a time limit).</summary>
public sealed record TrialOutcome(string? Failure)
{
    public static TrialOutcome Finished { get; } = new((string?)null);

    public bool IsFinished => Failure is null;

    public override string ToString() => Failure ?? "finished";
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
        if (!outcome.IsFinished) return ConvError.Failed(outcome.Failure!);
        var v = reply!.Split(' ').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        return new ConvError(v[0], v[1], v[2], v[3]);
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
        while (true)
        {
            var left = limit - clock.Elapsed;
            if (left <= TimeSpan.Zero || !replies!.TryTake(out var line, left))
            {
                if (replies!.IsCompleted) return (Ended(), null);
                Kill();
                return (new TrialOutcome($"did not return within {limit.TotalSeconds:0.#} s (hung; its process was killed)"), null);
            }
            if (expectStarted && line == "started") continue;
            if (line.StartsWith("error ", StringComparison.Ordinal)) return (new TrialOutcome($"the trial process refused the request: {line[6..]}"), null);
            return (TrialOutcome.Finished, line);
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
        var p = Process.Start(info) ?? throw new InvalidOperationException($"could not start the convolution trial process {info.FileName}");
        var queue = new BlockingCollection<string>();
        var log = new ConcurrentQueue<string>();
        var reader = new Thread(() =>
        {
            try
            {
                while (p.StandardOutput.ReadLine() is { } line)
                    if (line.StartsWith(KernelTrial.Prefix, StringComparison.Ordinal)) queue.Add(line[(KernelTrial.Prefix.Length + 1)..]);
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

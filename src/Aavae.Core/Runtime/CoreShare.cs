using System.Globalization;
using static TorchSharp.torch;

namespace Aavae.Runtime;

/// <summary>
/// Gives cores back to other jobs while they run, and takes them again when they stop.
/// <para>
/// libtorch splits each operation's work evenly over its OpenMP team and waits for the whole team
/// at the end: a team of two on two cores that another job also uses runs at the speed of its
/// thread that waits for a core, and its other thread spins at the barrier meanwhile (libgomp spins
/// about 300,000 times before it sleeps), taking the core the late thread needs, where one thread
/// would have kept its share (bench/NOTES.md, section 14, measures the slowdown). So every few seconds
/// this reads what the other processes use (/proc/stat less this process's and its children's time) and
/// sets libtorch's threads to the cores they leave, at least one, at most the starting count; two
/// samples in a row must agree before it changes anything, so one burst does not move it.
/// </para>
/// Linux only (elsewhere it never changes the threads). The thread count changes the order of
/// libtorch's parallel sums, so a run is bit-reproducible only at a fixed count: pin it with
/// <c>--threads</c>. Disposing it restores the count the loop started with.
/// </summary>
public sealed class CoreShare : IDisposable
{
    /// <summary>Seconds between samples of the machine's load.</summary>
    public const double DefaultInterval = 2.0;

    private readonly int maxThreads;
    private readonly int start = get_num_threads();
    private readonly double interval;
    private readonly Action<string>? report;
    private CpuSample? last;
    private int? pending;

    /// <param name="maxThreads">The most threads to use: libtorch's count when the loop starts (cores, OMP_NUM_THREADS or the MPI split).</param>
    /// <param name="report">Told each change, in one line.</param>
    public CoreShare(int maxThreads, Action<string>? report = null, double interval = DefaultInterval)
    {
        this.maxThreads = Math.Max(1, maxThreads);
        this.interval = interval;
        this.report = report;
        last = CpuSample.Read();
    }

    /// <summary>
    /// For a loop on the calling thread: shares up to its current libtorch thread count, or, when
    /// <paramref name="pinned"/> fixes the count, sets it and never changes it.
    /// </summary>
    public static CoreShare ForLoop(int? pinned, Action<string>? report = null)
    {
        if (pinned is not int n) return new CoreShare(get_num_threads(), report);
        var share = new CoreShare(n, report) { last = null };
        set_num_threads(n);
        return share;
    }

    public void Dispose()
    {
        if (get_num_threads() != start) set_num_threads(start);
    }

    /// <summary>The threads a process that may use up to <paramref name="maxThreads"/> should run when other processes keep <paramref name="otherCores"/> of <paramref name="cores"/> busy.</summary>
    public static int Decide(int maxThreads, int cores, double otherCores) =>
        Math.Clamp(cores - (int)Math.Floor(otherCores + 0.5), 1, Math.Max(1, maxThreads));

    /// <summary>Call between steps, on the thread that runs them (OpenMP's thread count is per calling thread); cheap unless a sample is due.</summary>
    public void AfterStep()
    {
        if (last is null) return;
        var now = CpuSample.Read();
        if (now is null || now.Seconds - last.Seconds < interval) return;
        double others = now.OtherCores(last);
        last = now;
        int target = Decide(maxThreads, now.Cores, others);
        int current = get_num_threads();
        if (target == current)
        {
            pending = null;
            return;
        }
        if (pending != target)
        {
            pending = target;
            return;
        }
        pending = null;
        set_num_threads(target);
        report?.Invoke($"threads: {current} -> {target} (other processes use {others.ToString("0.0", CultureInfo.InvariantCulture)} of {now.Cores} cores)");
    }
}

/// <summary>
/// The machine's and this job's CPU time at one moment, in clock ticks, from /proc/stat's first
/// line (busy = user, nice, system, irq, softirq; steal and idle are not work of this machine's
/// processes) and the job's: this process's utime and stime, and its children's, live (from their
/// own stat lines) or ended (its cutime and cstime). A child (the convolution guard's trial
/// process, the picture decoder) works for this run, so it is not another job to give cores to.
/// </summary>
public sealed record CpuSample(double Seconds, long Busy, long Total, long Self, int Cores)
{
    private static readonly System.Diagnostics.Stopwatch Clock = System.Diagnostics.Stopwatch.StartNew();

    /// <summary>Cores kept busy by other processes between <paramref name="earlier"/> and this sample.</summary>
    public double OtherCores(CpuSample earlier)
    {
        long total = Total - earlier.Total;
        if (total <= 0) return 0;
        double ticksPerCore = (double)total / Cores;
        return Math.Max(0, (Busy - earlier.Busy - (Self - earlier.Self)) / ticksPerCore);
    }

    /// <summary>Null off Linux or when /proc cannot be read.</summary>
    public static CpuSample? Read()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            return Parse(Clock.Elapsed.TotalSeconds, File.ReadAllText("/proc/stat"), File.ReadAllText("/proc/self/stat"), ChildStats());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>The stat lines of this process's live children.</summary>
    private static IEnumerable<string> ChildStats()
    {
        int self = Environment.ProcessId;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(dir);
            if (name.Length == 0 || !char.IsAsciiDigit(name[0]) || name == self.ToString(CultureInfo.InvariantCulture)) continue;
            string line;
            try
            {
                line = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;   // ended since the listing
            }
            if (SelfStat.Field(line, 4) == self) yield return line;
        }
    }

    /// <param name="childStats">The stat lines of this process's live children.</param>
    public static CpuSample Parse(double seconds, string procStat, string selfStat, IEnumerable<string>? childStats = null)
    {
        var lines = procStat.Split('\n');
        var f = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (f.Length < 9 || f[0] != "cpu") throw new FormatException("/proc/stat: no 'cpu' line first");
        long F(int i) => long.Parse(f[i], CultureInfo.InvariantCulture);
        long busy = F(1) + F(2) + F(3) + F(6) + F(7);
        long total = busy + F(4) + F(5) + F(8);
        int cores = lines.Count(l => l.StartsWith("cpu", StringComparison.Ordinal) && l.Length > 3 && char.IsAsciiDigit(l[3]));
        // utime, stime, cutime, cstime: this process's time and that of its children that ended.
        static long Job(string stat) => SelfStat.Field(stat, 14) + SelfStat.Field(stat, 15) + SelfStat.Field(stat, 16) + SelfStat.Field(stat, 17);
        long self = Job(selfStat) + (childStats ?? []).Sum(Job);
        return new CpuSample(seconds, busy, total, self, Math.Max(1, cores));
    }
}

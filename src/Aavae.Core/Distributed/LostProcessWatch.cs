namespace Aavae.Distributed;

/// <summary>
/// Names a process of the job that ends while training runs (killed, out of memory), in one line on
/// standard error, which every launcher shows. The launcher ends the job on its own, but MPICH's
/// names one process by pid, often a survivor it has just killed; so each process watches the
/// job's others on its own machine (the launcher's report stays the word on other machines'), and the
/// lowest-ranked one still running says which has ended. A process counts as ended from the moment
/// it exits, before its launcher has reaped it and started ending the others: the watch waits on a
/// pidfd of each (Linux 5.3 and later), which wakes it at once, so the first to end is the one named;
/// without pidfds it reads /proc every 20 ms.
/// </summary>
public sealed class LostProcessWatch : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);
    private readonly List<(int Rank, int Pid)> local;
    private readonly int rank, size;
    private readonly string host;
    private readonly Action<string> say;
    private volatile bool watching = true;

    /// <param name="say">Where the line goes (standard error in the program).</param>
    public LostProcessWatch(IProcessGroup group, Action<string> say)
    {
        (rank, size, this.say) = (group.Rank, group.Size, say);
        host = group.Places[rank].Host;
        local = group.Places.Select((place, r) => (Rank: r, place.Host, place.Pid)).Where(p => p.Host == host).Select(p => (p.Rank, p.Pid)).ToList();
        if (local.Count > 1) new Thread(Watch) { IsBackground = true, Name = "aavae lost-process watch" }.Start();
    }

    /// <summary>Stops watching: from here on a process may end (the job's end, a stop every process agreed on).</summary>
    public void Stop() => watching = false;

    public void Dispose() => Stop();

    private void Watch()
    {
        var others = local.Where(l => l.Rank != rank).ToList();
        var fds = others.Select(o => PidFd(o.Pid)).ToArray();
        try
        {
            while (watching)
            {
                int ended = fds.All(fd => fd >= 0) ? FirstExited(fds) : others.FindIndex(o => !Running(o.Pid));
                if (ended < 0)
                {
                    if (fds.Any(fd => fd < 0)) Thread.Sleep(Interval);
                    continue;
                }
                // The lowest-ranked process still running on this machine says it, once.
                if (watching && local.Where(l => l.Rank == rank || Running(l.Pid)).Min(l => l.Rank) == rank)
                    say($"rank {others[ended].Rank} of {size} ({host}:{others[ended].Pid}) has ended while training ran; the launcher ends the job");
                return;
            }
        }
        finally
        {
            foreach (var fd in fds) if (fd >= 0) close(fd);
        }
    }

    /// <summary>The index of a process whose pidfd says it has exited, waiting up to 100 ms; -1 if none has.</summary>
    private static int FirstExited(int[] fds)
    {
        var poll = fds.Select(fd => new PollFd { Fd = fd, Events = PollIn }).ToArray();
        if (Poll(poll, (ulong)poll.Length, 100) <= 0) return -1;
        return Array.FindIndex(poll, p => (p.Returned & (PollIn | PollHup)) != 0);
    }

    private static int PidFd(int pid) => OperatingSystem.IsLinux() ? (int)syscall(PidFdOpen, pid, 0) : -1;

    private const long PidFdOpen = 434;
    private const short PollIn = 0x1, PollHup = 0x10;

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Returned;
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern long syscall(long number, int pid, uint flags);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static extern int Poll([System.Runtime.InteropServices.In, System.Runtime.InteropServices.Out] PollFd[] fds, ulong count, int timeoutMs);

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    /// <summary>Whether <paramref name="pid"/> runs: its /proc entry is there and it is not a zombie (state Z) or dead (X).</summary>
    internal static bool Running(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // "pid (command) S ...": the state follows the last ')', as the command may hold one.
            int close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] is not ('Z' or 'X' or 'x');
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return true; }
    }
}

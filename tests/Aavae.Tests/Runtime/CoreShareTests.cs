using System.Diagnostics;
using Aavae.Runtime;
using static TorchSharp.torch;

namespace Aavae.Tests.Runtime;

public class CoreShareTests
{
    [Theory]
    [InlineData(2, 2, 0.0, 2)]
    [InlineData(2, 2, 0.4, 2)]   // background noise keeps both cores
    [InlineData(2, 2, 0.6, 1)]   // most of a core taken: give it up
    [InlineData(2, 2, 1.0, 1)]
    [InlineData(2, 2, 2.0, 1)]   // never fewer than one thread
    [InlineData(1, 2, 0.0, 1)]   // never more than the starting count
    [InlineData(8, 8, 2.6, 5)]
    [InlineData(4, 8, 1.0, 4)]   // an MPI split of 4 per process keeps 4 while 7 cores are free
    public void ThreadsAreTheCoresOtherProcessesLeave(int maxThreads, int cores, double others, int expected) =>
        Assert.Equal(expected, CoreShare.Decide(maxThreads, cores, others));

    [Fact]
    public void OtherProcessesCoresAreTheMachinesBusyTicksLessThisProcesssPerCoreOfElapsedTicks()
    {
        // Two cores. Fields: user nice system idle iowait irq softirq steal guest guest_nice.
        const string before = "cpu  1000 0 200 5000 100 0 0 50 0 0\ncpu0 500 0 100 2500 50 0 0 25 0 0\ncpu1 500 0 100 2500 50 0 0 25 0 0\nintr 1\n";
        const string after = "cpu  1260 10 230 5170 100 0 0 80 0 0\ncpu0 630 5 115 2585 50 0 0 40 0 0\ncpu1 630 5 115 2585 50 0 0 40 0 0\nintr 1\n";
        // A command name with spaces and a parenthesis: utime and stime are the 14th and 15th fields.
        const string selfBefore = "42 (a (b) c) R 1 42 42 0 -1 4194560 10 0 0 0 300 20 0 0 20 0 3 0 100 0 0";
        const string selfAfter = "42 (a (b) c) R 1 42 42 0 -1 4194560 10 0 0 0 380 40 0 0 20 0 3 0 100 0 0";
        var a = CpuSample.Parse(0, before, selfBefore);
        var b = CpuSample.Parse(2, after, selfAfter);
        Assert.Equal((1200L, 6350L, 320L, 2), (a.Busy, a.Total, a.Self, a.Cores));
        // Busy +300 (user 260, nice 10, system 30), total +500 (busy, idle 170, steal 30): 250 ticks a core;
        // this process +100, so others kept 200 / 250 = 0.8 of a core busy.
        Assert.Equal(0.8, b.OtherCores(a), 12);
    }

    [Fact]
    public void ChildrenLiveAndEndedCountAsThisJob()
    {
        const string before = "cpu  1000 0 200 5000 100 0 0 50 0 0\ncpu0 500 0 100 2500 50 0 0 25 0 0\ncpu1 500 0 100 2500 50 0 0 25 0 0\n";
        const string after = "cpu  1260 10 230 5170 100 0 0 80 0 0\ncpu0 630 5 115 2585 50 0 0 40 0 0\ncpu1 630 5 115 2585 50 0 0 40 0 0\n";
        // Fields 14-17: utime, stime, cutime, cstime. Between the samples the process itself
        // used 100 ticks, a child that ended 30 (cutime) and a live child 50.
        const string selfBefore = "42 (aavae) R 1 42 42 0 -1 4194560 10 0 0 0 300 20 5 0 20 0 3 0 100 0 0";
        const string selfAfter = "42 (aavae) R 1 42 42 0 -1 4194560 10 0 0 0 380 40 35 0 20 0 3 0 100 0 0";
        const string childBefore = "43 (dotnet) S 42 42 42 0 -1 4194560 10 0 0 0 10 0 0 0 20 0 3 0 100 0 0";
        const string childAfter = "43 (dotnet) S 42 42 42 0 -1 4194560 10 0 0 0 50 10 0 0 20 0 3 0 100 0 0";
        var a = CpuSample.Parse(0, before, selfBefore, [childBefore]);
        var b = CpuSample.Parse(2, after, selfAfter, [childAfter]);
        Assert.Equal(325L + 10L, a.Self);
        // Busy +300 over 250 ticks a core; the job +180, so others kept 120 / 250 = 0.48 of a core busy.
        Assert.Equal(0.48, b.OtherCores(a), 12);
    }

    [Fact]
    public void ALiveChildIsFoundByItsParentId()
    {
        using var child = Process.Start("/bin/sh", ["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 30"]);
        try
        {
            CpuSample? first = CpuSample.Read(), later = null;
            Assert.NotNull(first);
            var clock = Stopwatch.StartNew();
            // The child's busy loop shows in this job's time, though this thread sleeps.
            while (clock.Elapsed < TimeSpan.FromSeconds(20) && (later is null || later.Self - first.Self < 20))
            {
                Thread.Sleep(100);
                later = CpuSample.Read();
            }
            Assert.True(later!.Self - first.Self >= 20, $"this job's ticks grew by {later.Self - first.Self}");
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
    }

    [RequiresCoresFact(2)]
    public void TwoBusyLoopsTakeTheSecondThreadAndDisposeRestoresIt()
    {
        int before = get_num_threads();
        set_num_threads(2);
        // Other jobs, not this process's children (which count as its own work): each loop is left
        // to init when the shell that started it exits, and the shell prints its id.
        var hogs = Enumerable.Range(0, 2).Select(_ => StartOrphan("while :; do :; done")).ToList();
        var said = new List<string>();
        try
        {
            using (var share = new CoreShare(2, said.Add, interval: 0.25))
            {
                var clock = Stopwatch.StartNew();
                while (get_num_threads() == 2 && clock.Elapsed < TimeSpan.FromSeconds(10))
                {
                    Thread.Sleep(50);
                    share.AfterStep();
                }
                Assert.Equal(1, get_num_threads());
                Assert.Matches(@"^threads: 2 -> 1 \(other processes use \d\.\d of \d+ cores\)$", Assert.Single(said));
            }
            Assert.Equal(2, get_num_threads());
        }
        finally
        {
            foreach (var pid in hogs)
                Process.GetProcessById(pid).Kill();
            set_num_threads(before);
        }
    }

    private static int StartOrphan(string script)
    {
        using var shell = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", $"( {script} ) >/dev/null 2>&1 & echo $!"]) { RedirectStandardOutput = true })!;
        int pid = int.Parse(shell.StandardOutput.ReadLine()!, System.Globalization.CultureInfo.InvariantCulture);
        shell.WaitForExit();
        return pid;
    }

    [Fact]
    public void APinnedCountIsSetAndKept()
    {
        int before = get_num_threads();
        try
        {
            using (var share = CoreShare.ForLoop(1))
            {
                share.AfterStep();
                Assert.Equal(1, get_num_threads());
            }
            Assert.Equal(before, get_num_threads());
        }
        finally
        {
            set_num_threads(before);
        }
    }
}

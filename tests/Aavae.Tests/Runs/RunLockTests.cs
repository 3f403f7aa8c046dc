using System.Diagnostics;
using Aavae.Training;
using Aavae.Runs;

namespace Aavae.Tests.Runs;

public class RunLockTests
{
    [Fact]
    public void ASecondHolderIsRefusedWithTheFirstsProcessIdAndMayTakeItOnceReleased()
    {
        var dir = Path.Combine(TempDir.Create(), "run");
        using (RunLock.Acquire(dir))
        {
            var e = Assert.Throws<RunFolderException>(() => RunLock.Acquire(dir));
            Assert.Equal($"run folder {dir} is in use by process {Environment.ProcessId}: wait for it to finish or stop it, or pass another --output", e.Message);
        }
        using (RunLock.Acquire(dir)) { }
    }

    // util-linux's flock(1) takes the same kind of lock (flock(2)) as .NET on Unix.
    [RequiresProgramFact("/usr/bin/flock", "util-linux")]
    public void AKilledHoldersLockDiesWithIt()
    {
        var dir = Path.Combine(TempDir.Create(), "run");
        Directory.CreateDirectory(dir);
        using var holder = Process.Start("/usr/bin/flock", ["-x", "-o", RunLock.LockFile(dir), "sleep", "60"]);
        var clock = Stopwatch.StartNew();
        // Wait until the other process holds the lock.
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            try
            {
                RunLock.Acquire(dir).Dispose();
                Thread.Sleep(50);
            }
            catch (RunFolderException)
            {
                break;
            }
        }
        Assert.Contains("is in use by", Assert.Throws<RunFolderException>(() => RunLock.Acquire(dir)).Message);
        // flock -o keeps the lock in flock itself (not in sleep): SIGKILL, and the kernel drops it.
        holder.Kill(entireProcessTree: true);
        holder.WaitForExit();
        using (RunLock.Acquire(dir)) { }
    }

    [Fact]
    public void TakingTheLockRemovesTemporariesOfDeadWritersOnly()
    {
        var dir = Path.Combine(TempDir.Create(), "run");
        Directory.CreateDirectory(Path.Combine(dir, "checkpoints"));
        int dead = DeadProcessId();
        var orphan = Path.Combine(dir, "checkpoints", $".last.ckpt.{dead}.tmp");
        var live = Path.Combine(dir, $".config.json.{Environment.ProcessId}.tmp");
        var notOurs = Path.Combine(dir, ".notes.tmp");
        foreach (var f in new[] { orphan, live, notOurs }) File.WriteAllText(f, "x");
        using (RunLock.Acquire(dir)) { }
        Assert.Equal((false, true, true), (File.Exists(orphan), File.Exists(live), File.Exists(notOurs)));
    }

    [Fact]
    public void OverwriteNeverClearsALiveRun()
    {
        var dir = Path.Combine(TempDir.Create(), "run");
        var run = new RunFolder(dir);
        run.CreateFolders();
        File.WriteAllText(run.Config, "{}");
        using (RunLock.Acquire(dir))
        {
            Assert.Throws<RunFolderException>(() => RunFolder.CreateNew(dir, overwrite: true));
            Assert.True(File.Exists(run.Config));
        }
    }

    private static int DeadProcessId()
    {
        // A process that has exited and been reaped: its id is free (and unlikely to be reused within the test).
        using var p = Process.Start("/bin/true")!;
        p.WaitForExit();
        return p.Id;
    }
}

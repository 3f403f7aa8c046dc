using System.Diagnostics;
using Aavae.Distributed;

namespace Aavae.Tests.Distributed;

/// <summary>The watch over the job's processes on this machine, with real processes standing for ranks 1 and 2.</summary>
public class LostProcessWatchTests
{
    /// <summary>A job of three on this machine: this process as rank 0, and two others.</summary>
    private sealed class ThreeProcesses(int pid1, int pid2) : IProcessGroup
    {
        private static readonly string Host = ProcessPlace.This.Host;
        public int Rank => 0;
        public int Size => 3;
        public int LocalRank => 0;
        public int LocalSize => 3;
        public IReadOnlyList<ProcessPlace> Places => [ProcessPlace.This, new(Host, pid1), new(Host, pid2)];
        public string Backend => "test";
        public void AllReduceSum(Span<float> values) { }
        public void AllReduceSum(Span<double> values) { }
        public void Broadcast(Span<byte> bytes, int root) { }
        public void Abort(int exitCode) { }
        public void Dispose() { }
    }

    private static Process Sleeper() => Process.Start(new ProcessStartInfo("sleep", "60"))!;

    [Fact]
    public void AProcessKilledWhileWatchedIsNamedOnceByRankAndPid()
    {
        using var one = Sleeper();
        using var two = Sleeper();
        var said = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var watch = new LostProcessWatch(new ThreeProcesses(one.Id, two.Id), said.Enqueue);
        Thread.Sleep(200);
        Assert.Empty(said);
        // Unreaped, as a launcher's child is for a moment: the watch must see the exit itself, not the reaping.
        using (var kill = Process.Start("kill", ["-9", two.Id.ToString()])) kill.WaitForExit();
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (said.IsEmpty && DateTime.UtcNow < deadline) Thread.Sleep(10);
        Thread.Sleep(200);
        Assert.Equal([$"rank 2 of 3 ({System.Net.Dns.GetHostName()}:{two.Id}) has ended while training ran; the launcher ends the job"], said);
        one.Kill();
    }

    [Fact]
    public void AProcessThatEndsAfterTheWatchStoppedIsNotReported()
    {
        using var one = Sleeper();
        using var two = Sleeper();
        var said = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var watch = new LostProcessWatch(new ThreeProcesses(one.Id, two.Id), said.Enqueue);
        watch.Stop();
        one.Kill();
        two.Kill();
        Thread.Sleep(400);
        Assert.Empty(said);
    }
}

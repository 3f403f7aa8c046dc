using System.Collections.Concurrent;
using System.Diagnostics;
using Aavae.Training;

namespace Aavae.Tests.Training;

/// <summary>The one line a stopping run prints when its step is stuck in native code, and its silence otherwise.</summary>
public class StalledStepWatchTests
{
    private static bool WaitFor(Func<bool> condition, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (!condition() && clock.Elapsed < limit) Thread.Sleep(20);
        return condition();
    }

    [Fact]
    public void AStepThatDoesNotReturnAfterAStopRequestIsNamedOnceAfterTheGraceTime()
    {
        long step = 41;
        var said = new ConcurrentQueue<string>();
        using var watch = new StalledStepWatch(() => Interlocked.Read(ref step), said.Enqueue, minimum: TimeSpan.FromSeconds(0.5));
        var clock = Stopwatch.StartNew();
        watch.StopRequested("SIGTERM");
        Assert.True(WaitFor(() => !said.IsEmpty, TimeSpan.FromSeconds(10)));
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.5), $"said after {clock.Elapsed}");
        Thread.Sleep(1000);
        var line = Assert.Single(said);
        Assert.Equal("aavae: step 42 has not returned 0.5 s after SIGTERM: libtorch is stuck inside a native kernel (the engine, not your data); SIGTERM again ends the process now, without a checkpoint", line);
    }

    [Fact]
    public void AStepThatReturnsAfterTheRequestIsNotCalledStuck()
    {
        long step = 0;
        var said = new ConcurrentQueue<string>();
        using var watch = new StalledStepWatch(() => Interlocked.Read(ref step), said.Enqueue, minimum: TimeSpan.FromSeconds(0.5));
        watch.StopRequested("Ctrl-C");
        Thread.Sleep(300);
        Interlocked.Increment(ref step);
        Thread.Sleep(1500);
        Assert.Empty(said);
    }

    [Fact]
    public void WithoutAStopRequestNothingIsSaidAndTheGraceGrowsWithTheLongestStep()
    {
        long step = 0;
        var said = new ConcurrentQueue<string>();
        using var watch = new StalledStepWatch(() => Interlocked.Read(ref step), said.Enqueue, minimum: TimeSpan.FromSeconds(0.5));
        Thread.Sleep(1200);
        Interlocked.Increment(ref step);
        // The watch polls four times a second: the longest step it saw is 1.2 s and a poll or two more
        // (more on a loaded machine, whose timer thread runs late), and three times that is the grace.
        Assert.True(WaitFor(() => watch.Grace >= TimeSpan.FromSeconds(3.6), TimeSpan.FromSeconds(5)), $"grace {watch.Grace}");
        Assert.True(watch.Grace <= TimeSpan.FromSeconds(8), $"grace {watch.Grace}");
        Assert.Empty(said);
    }
}

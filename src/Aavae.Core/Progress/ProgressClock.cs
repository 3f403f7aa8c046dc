using System.Diagnostics;

namespace Aavae.Progress;

/// <summary>Elapsed time, throughput and time left of a loop of steps: what a progress display shows.</summary>
public sealed class ProgressClock(long firstStep = 0)
{
    private readonly Stopwatch clock = Stopwatch.StartNew();

    public TimeSpan Elapsed => clock.Elapsed;

    /// <summary>Time left for <paramref name="stepsLeft"/> more steps at the average pace since the clock started, <paramref name="step"/> steps in.</summary>
    public TimeSpan Remaining(long step, long stepsLeft) =>
        TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / Math.Max(1, step - firstStep) * Math.Max(0, stepsLeft));

    public static double ImagesPerSecond(long images, TimeSpan time) => images / Math.Max(1e-9, time.TotalSeconds);
}

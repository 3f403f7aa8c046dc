using System.Diagnostics;

namespace Aavae.Training;

/// <summary>
/// After a stop request (Ctrl-C, a scheduler's SIGTERM), says once, in one line, when the step under
/// way has not returned within its grace time: a thread stuck in a native kernel cannot be stopped
/// from inside the process, and the user should know it is the engine, not their data, and that a
/// second signal ends the process at once. The grace time is a minute, or three times the longest
/// step seen so far when that is longer, so a slow model's honest step is not called stuck.
/// </summary>
public sealed class StalledStepWatch : IDisposable
{
    private readonly Func<long> globalStep;
    private readonly Action<string> say;
    private readonly TimeSpan minimum;
    private readonly Timer timer;
    private readonly Stopwatch sinceStep = Stopwatch.StartNew();
    private readonly object gate = new();
    private long lastStep;
    private TimeSpan longest;
    private (string How, TimeSpan At)? request;
    private bool said;

    /// <param name="globalStep">The steps taken so far, read from the polling thread.</param>
    /// <param name="minimum">The grace time's floor: a minute unless a test needs less.</param>
    public StalledStepWatch(Func<long> globalStep, Action<string> say, TimeSpan? minimum = null)
    {
        this.globalStep = globalStep;
        this.say = say;
        this.minimum = minimum ?? TimeSpan.FromMinutes(1);
        lastStep = globalStep();
        timer = new Timer(_ => Poll(), null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));
    }

    /// <summary>The time a step may take after a stop request before it is called stuck.</summary>
    public TimeSpan Grace
    {
        get
        {
            lock (gate) return longest * 3 > minimum ? longest * 3 : minimum;
        }
    }

    public void StopRequested(string how)
    {
        lock (gate) request ??= (how, sinceStep.Elapsed);
    }

    private void Poll()
    {
        string? message = null;
        lock (gate)
        {
            long step = globalStep();
            if (step != lastStep)
            {
                if (sinceStep.Elapsed > longest) longest = sinceStep.Elapsed;
                lastStep = step;
                sinceStep.Restart();
                // The step under way at the request returned: the run is stopping as asked.
                if (request is not null) said = true;
                return;
            }
            var grace = longest * 3 > minimum ? longest * 3 : minimum;
            if (request is { } stop && !said && sinceStep.Elapsed - stop.At >= grace)
            {
                said = true;
                message = $"aavae: step {step + 1} has not returned {grace.TotalSeconds:0.#} s after {stop.How}: libtorch is stuck inside a native kernel (the engine, not your data); {stop.How} again ends the process now, without a checkpoint";
            }
        }
        if (message is not null) say(message);
    }

    public void Dispose() => timer.Dispose();
}

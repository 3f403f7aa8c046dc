using Aavae.Options;

namespace Aavae.Training;

/// <summary>What a run costs on this machine, in seconds, as measured over its first steps.</summary>
/// <param name="Step">One optimizer step, data loading included.</param>
/// <param name="EpochEnd">One epoch's end: validation, monitors and checkpoint.</param>
/// <param name="AfterTraining">What follows the last epoch: the run's page and the linear evaluation, if any.</param>
/// <param name="Page">The run's page's share of <paramref name="AfterTraining"/> (its analysis: pictures encoded, the map).</param>
public sealed record RunCosts(double Step, double EpochEnd, double AfterTraining, double Page = 0);

/// <summary>
/// How many steps fit in a time budget (<c>--max-time</c>). A run ends with an epoch's end
/// (validation and a checkpoint) and then the work that follows it, so the steps are the most whose
/// training and epoch ends, plus that work and a margin, fit in what is left. The schedule is fitted
/// to those steps: warm-up as configured, but at most half of them, then the decay to the last step.
/// </summary>
public static class TimeBudget
{
    /// <summary>
    /// Held back from a budget for what the estimate cannot see: 5% and 5 seconds (a slower stretch,
    /// writing the last files, leaving the process), and a third of the work after training, whose
    /// estimate from a few encoder batches at the start ran up to 31% short of the time it took (the
    /// guest's speed wanders; docs/results.md).
    /// </summary>
    public static double Margin(TimeSpan budget, double afterTraining = 0) => 0.05 * budget.TotalSeconds + 5 + afterTraining / 3;

    /// <summary>
    /// The last global step of a run at step <paramref name="done"/> with <paramref name="secondsLeft"/>
    /// in its budget: the most steps, up to <paramref name="cap"/>, whose cost fits; <paramref name="done"/>
    /// when not even one more does.
    /// </summary>
    public static long Steps(long done, int batchesPerEpoch, double secondsLeft, RunCosts costs, long cap)
    {
        if (Cost(done, done, batchesPerEpoch, costs) > secondsLeft || cap <= done) return done;
        // No more steps than the time left would pay for alone.
        double affordable = done + Math.Ceiling(secondsLeft / Math.Max(costs.Step, 1e-9));
        long low = done, high = affordable >= cap ? cap : (long)affordable;
        // The cost grows with the steps: the largest that fits, by bisection.
        while (low < high)
        {
            long mid = low + (high - low + 1) / 2;
            if (Cost(done, mid, batchesPerEpoch, costs) <= secondsLeft) low = mid;
            else high = mid - 1;
        }
        return low;
    }

    /// <summary>Seconds from step <paramref name="done"/> to the end of the job at step <paramref name="steps"/>.</summary>
    public static double Cost(long done, long steps, int batchesPerEpoch, RunCosts costs) =>
        (steps - done) * costs.Step + Math.Max(1, EpochEnds(done, steps, batchesPerEpoch)) * costs.EpochEnd + costs.AfterTraining;

    /// <summary>The epoch ends after step <paramref name="done"/> up to step <paramref name="steps"/>: each whole epoch's, and the last partial one's.</summary>
    public static long EpochEnds(long done, long steps, int batchesPerEpoch) =>
        steps / batchesPerEpoch - done / batchesPerEpoch + (steps % batchesPerEpoch != 0 && steps > done ? 1 : 0);

    /// <summary>The plan for <paramref name="steps"/> steps: a warm-up of <paramref name="warmupEpochs"/>, at most half the run.</summary>
    public static TimePlan Plan(long steps, int batchesPerEpoch, double warmupEpochs) =>
        new(steps, Math.Min((long)Math.Round(batchesPerEpoch * warmupEpochs, MidpointRounding.AwayFromZero), steps / 2));

    /// <summary>
    /// The trainer's settings once <paramref name="plan"/> is fixed: the plan, the epochs it spans, and
    /// its steps as max_steps when they are not whole epochs.
    /// </summary>
    public static TrainerOptions Apply(TrainerOptions trainer, TimePlan plan, int batchesPerEpoch) => trainer with
    {
        Plan = plan,
        MaxEpochs = (int)Math.Max(1, (plan.Steps + batchesPerEpoch - 1) / batchesPerEpoch),
        MaxSteps = plan.Steps % batchesPerEpoch == 0 ? null : plan.Steps,
    };
}

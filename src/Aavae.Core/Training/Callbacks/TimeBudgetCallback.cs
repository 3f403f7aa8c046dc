using System.Diagnostics;
using System.Globalization;
using Aavae.Checkpoints;
using Aavae.Configuration;
using Aavae.Distributed;
using Aavae.Options;

namespace Aavae.Training.Callbacks;

/// <summary>
/// Fits a run to its time budget (<c>--max-time</c>): it times the steps after the first few (which
/// build the convolutions' kernels), plans the run's steps from that (<see cref="TimeBudget"/>),
/// and plans again once from the steps since (and the epoch's end, when one came first). Under
/// data parallelism every process plans at the same step from the measurements averaged over all
/// of them, so they stop together.
/// </summary>
/// <param name="budget">The whole job's time, counted from <paramref name="jobStart"/> (UTC).</param>
/// <param name="cap">The last step that --max-epochs or --max-steps allow.</param>
/// <param name="estimate">The costs a run of steps of this many seconds has here (it may time the encoder): the epoch's end and what follows training.</param>
/// <param name="apply">Takes the plan, and when training must end at the latest.</param>
public sealed class TimeBudgetCallback(TimeSpan budget, DateTime jobStart, long cap, int batchesPerEpoch, double warmupEpochs,
    Func<double, RunCosts> estimate, IProcessGroup group, Action<TimePlan, DateTime> apply, Action<string> report) : ITrainingCallback
{
    /// <summary>Steps left out of the timing: the first calls of each convolution build its kernels.</summary>
    public const int SkippedSteps = 3;

    /// <summary>Steps timed before the first plan.</summary>
    public const int TimedSteps = 10;

    private enum Stage { Measuring, Planned, Replanned }

    private Stage stage;
    private long firstStep, timedFrom = -1, replanAt;
    private long timingStart, lastStepEnd;
    private RunCosts planned = new(0, 0, 0);

    public void OnFitStart(TrainingPosition start)
    {
        firstStep = start.GlobalStep;
        timingStart = lastStepEnd = Stopwatch.GetTimestamp();
    }

    public void OnTrainBatchEnd(TrainBatchEnd step)
    {
        lastStepEnd = Stopwatch.GetTimestamp();
        long done = step.Position.GlobalStep, taken = done - firstStep;
        if (taken == SkippedSteps) (timingStart, timedFrom) = (lastStepEnd, done);
        if (stage == Stage.Measuring && taken == SkippedSteps + TimedSteps)
            FirstPlan(done, estimate(SecondsPerStep(done)), "measured over the first steps");
        else if (stage == Stage.Planned && done == replanAt)
            Replan(done, planned with { Step = SecondsPerStep(done) }, $"measured again over steps {timedFrom + 1}-{done}");
    }

    public void OnEpochEnd(EpochEnd epoch)
    {
        if (epoch.Last || stage == Stage.Replanned) return;
        double epochEnd = Stopwatch.GetElapsedTime(lastStepEnd).TotalSeconds;
        long done = epoch.Next.GlobalStep;
        // An epoch shorter than the timed steps: plan from its steps and its end as measured.
        if (stage == Stage.Measuring) FirstPlan(done, estimate(SecondsPerStep(done)) with { EpochEnd = epochEnd }, $"measured over epoch {epoch.Epoch + 1}");
        else Replan(done, planned with { Step = SecondsPerStep(done), EpochEnd = epochEnd }, $"measured again at the end of epoch {epoch.Epoch + 1}");
    }

    /// <summary>
    /// The plan from the first measurement, to be made again once: at the next epoch's end, or a
    /// third of the way to the planned end if that comes first (a run shorter than an epoch). The
    /// second measurement times the steps after the plan, as the first ones still run slower than the rest.
    /// </summary>
    private void FirstPlan(long done, RunCosts costs, string how)
    {
        long steps = Plan(done, costs, how);
        stage = Stage.Planned;
        replanAt = steps > done + 2 ? done + Math.Max(2, (steps - done) / 3) : -1;
        (timingStart, timedFrom) = (Stopwatch.GetTimestamp(), done);
    }

    private void Replan(long done, RunCosts costs, string how)
    {
        Plan(done, costs, how);
        stage = Stage.Replanned;
    }

    /// <summary>The mean step time since the timing began (since the run's start when it has taken fewer steps than are skipped), epoch ends aside.</summary>
    private double SecondsPerStep(long done)
    {
        long timed = timedFrom >= 0 ? done - timedFrom : done - firstStep;
        return Stopwatch.GetElapsedTime(timingStart, lastStepEnd).TotalSeconds / Math.Max(1, timed);
    }

    /// <returns>The run's last step.</returns>
    private long Plan(long done, RunCosts measured, string how)
    {
        double elapsed = (DateTime.UtcNow - jobStart).TotalSeconds;
        var costs = planned = Agree(measured, ref elapsed);
        double margin = TimeBudget.Margin(budget, costs.AfterTraining);
        double left = budget.TotalSeconds - margin - elapsed;
        long steps = TimeBudget.Steps(done, batchesPerEpoch, left, costs, cap);
        var plan = TimeBudget.Plan(steps, batchesPerEpoch, warmupEpochs);
        // A guard, not the plan: training ends at the latest when the last epoch's end and the work
        // after it would no longer fit in the budget with half the margin left (the plan keeps all of it).
        var trainUntil = jobStart.AddSeconds(budget.TotalSeconds - margin / 2 - costs.EpochEnd - costs.AfterTraining);
        apply(plan, trainUntil);
        bool capped = steps == cap && TimeBudget.Cost(done, cap + 1, batchesPerEpoch, costs) <= left;
        report(Describe(done, steps, plan, costs, how, capped));
        return steps;
    }

    /// <summary>Every process's measurements, averaged, so that all of them make the same plan.</summary>
    private RunCosts Agree(RunCosts costs, ref double elapsed)
    {
        if (group.Size == 1) return costs;
        Span<double> values = [costs.Step, costs.EpochEnd, costs.AfterTraining, costs.Page, elapsed];
        group.AllReduceSum(values);
        for (int i = 0; i < values.Length; i++) values[i] /= group.Size;
        elapsed = values[4];
        return new RunCosts(values[0], values[1], values[2], values[3]);
    }

    private string Describe(long done, long steps, TimePlan plan, RunCosts costs, string how, bool capped)
    {
        var c = CultureInfo.InvariantCulture;
        string budgetText = SettingValues.Format(budget);
        string measured = string.Create(c, $"{costs.Step:0.###} s a step, {costs.EpochEnd:0.#} s an epoch's end{(costs.AfterTraining > 0 ? $", {costs.AfterTraining:0} s after training (the run's page {costs.Page:0} s, evaluation {costs.AfterTraining - costs.Page:0} s)" : "")} ({how})");
        if (steps <= done)
            return $"time budget {budgetText}: no time is left for more training at step {done} ({measured}); the run ends here";
        string epochs = string.Create(c, $"{(double)steps / batchesPerEpoch:0.##} epochs");
        string bound = capped ? "; --max-epochs or --max-steps ends it first" : "";
        return $"time budget {budgetText}: {steps} steps ({epochs}), warm-up {plan.WarmupSteps}, decay to the last step; {measured}{bound}";
    }
}

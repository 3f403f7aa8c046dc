using Aavae.Progress;
using Aavae.Checkpoints;
using Aavae.Options;

namespace Aavae.Training.Callbacks;

/// <summary>Tells an observer (the CLI's progress bar) about each step and epoch: loss, images per second (of all <paramref name="processes"/>), time left.</summary>
/// <param name="trainer">The run's length as it stands (a time budget fixes it once the run has measured its speed).</param>
public sealed class ProgressReporter(ITrainingObserver observer, Func<TrainerOptions> trainer, int batchesPerEpoch, int processes = 1) : ITrainingCallback
{
    private ProgressClock clock = new();

    public void OnFitStart(TrainingPosition start) => clock = new ProgressClock(start.GlobalStep);

    public void OnTrainBatchEnd(TrainBatchEnd step)
    {
        var t = trainer();
        bool known = t.MaxTime is null || t.Plan is not null;
        long last = (long)t.MaxEpochs * batchesPerEpoch;
        if (t.MaxSteps is long max) last = Math.Min(last, max);
        long remaining = known ? last - step.Position.GlobalStep : 0;
        observer.OnStep(new StepReport(step.Epoch, known ? t.MaxEpochs : 0, step.Batch, batchesPerEpoch, step.Position.GlobalStep, step.Loss,
            ProgressClock.ImagesPerSecond(step.Views.X.shape[0] * processes, step.StepTime), clock.Elapsed, clock.Remaining(step.Position.GlobalStep, remaining),
            known ? last : null));
    }

    public void OnEpochEnd(EpochEnd epoch) => observer.OnEpoch(new EpochReport(epoch.Epoch, epoch.Next.GlobalStep, epoch.Row, clock.Elapsed));
}

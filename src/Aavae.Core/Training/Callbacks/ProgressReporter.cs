using Aavae.Progress;
using Aavae.Checkpoints;
using Aavae.Options;

namespace Aavae.Training.Callbacks;

/// <summary>Tells an observer (the CLI's progress bar) about each step and epoch: loss, images per second (of all <paramref name="processes"/>), time left.</summary>
public sealed class ProgressReporter(ITrainingObserver observer, PretrainOptions options, int batchesPerEpoch, int processes = 1) : ITrainingCallback
{
    private ProgressClock clock = new();

    public void OnFitStart(TrainingPosition start) => clock = new ProgressClock(start.GlobalStep);

    public void OnTrainBatchEnd(TrainBatchEnd step)
    {
        long remaining = (long)(options.Trainer.MaxEpochs - step.Epoch) * batchesPerEpoch - step.Batch;
        if (options.Trainer.MaxSteps is long max) remaining = Math.Min(remaining, max - step.Position.GlobalStep);
        observer.OnStep(new StepReport(step.Epoch, options.Trainer.MaxEpochs, step.Batch, batchesPerEpoch, step.Position.GlobalStep, step.Loss,
            ProgressClock.ImagesPerSecond(step.Views.X.shape[0] * processes, step.StepTime), clock.Elapsed, clock.Remaining(step.Position.GlobalStep, remaining)));
    }

    public void OnEpochEnd(EpochEnd epoch) => observer.OnEpoch(new EpochReport(epoch.Epoch, epoch.Next.GlobalStep, epoch.Row, clock.Elapsed));
}

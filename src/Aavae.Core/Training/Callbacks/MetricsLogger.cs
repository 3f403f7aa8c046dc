using Aavae.Objectives;
using Aavae.Runs;
using Aavae.Checkpoints;

namespace Aavae.Training.Callbacks;

/// <summary>
/// The run's metrics: every epoch's row to <c>metrics.csv</c> and TensorBoard, and the training
/// metrics of every <paramref name="everySteps"/>-th step to TensorBoard (Lightning logs every 50).
/// </summary>
public sealed class MetricsLogger(RunFolder run, bool resumed, int everySteps = MetricsLogger.DefaultEverySteps) : ITrainingCallback
{
    public const int DefaultEverySteps = 10;

    private MetricsLog? log;

    public MetricsLog Log => log ?? throw new InvalidOperationException("the metrics log opens when training starts");

    public void OnFitStart(TrainingPosition start) => log = new MetricsLog(run, append: resumed);

    public void OnTrainBatchEnd(TrainBatchEnd step)
    {
        if (step.Position.GlobalStep % everySteps != 0) return;
        var values = step.Metrics.ToDictionary(kv => TrainingLoop.TrainName(kv.Key), kv => ObjectiveOutput.ReadValue(kv.Value));
        values["lr"] = step.LearningRate;
        Log.Scalars(values, step.Position.GlobalStep);
    }

    public void OnEpochEnd(EpochEnd epoch)
    {
        Log.EpochRow(epoch.Row);
        Log.Scalars(epoch.Row.Where(kv => kv.Key.StartsWith("val_", StringComparison.Ordinal) || kv.Key.StartsWith("online_", StringComparison.Ordinal) || kv.Key is "knn_acc" or "linear_val_acc")
            .ToDictionary(), epoch.Next.GlobalStep);
    }
}

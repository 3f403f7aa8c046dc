namespace Aavae.Progress;

/// <summary>A finished optimizer step, for progress display.</summary>
public sealed record StepReport(int Epoch, int MaxEpochs, int Batch, int BatchesPerEpoch, long GlobalStep, double Loss,
    double ImagesPerSecond, TimeSpan Elapsed, TimeSpan Remaining);

/// <summary>A finished epoch: its row of metrics (train means, validation, monitors).</summary>
public sealed record EpochReport(int Epoch, long GlobalStep, IReadOnlyDictionary<string, double> Metrics, TimeSpan Elapsed);

/// <summary>What a front end (the CLI's progress bar, a test) hears while a run goes on.</summary>
public interface ITrainingObserver
{
    void OnStep(StepReport step);

    void OnEpoch(EpochReport epoch);

    /// <summary>A line for the user: checkpoints written, monitors run.</summary>
    void OnMessage(string message);
}

/// <summary>Hears nothing: for tests and library callers that only want the result.</summary>
public sealed class SilentObserver : ITrainingObserver
{
    public void OnStep(StepReport step) { }

    public void OnEpoch(EpochReport epoch) { }

    public void OnMessage(string message) { }
}

namespace Aavae.Progress;

/// <summary>A finished optimizer step, for progress display.</summary>
/// <param name="MaxEpochs">0: not known yet (a time budget fixes it once the run has measured its speed).</param>
/// <param name="TotalSteps">The run's last step, when it is not the end of epoch <paramref name="MaxEpochs"/>; the time left is unknown while it is 0.</param>
public sealed record StepReport(int Epoch, int MaxEpochs, int Batch, int BatchesPerEpoch, long GlobalStep, double Loss,
    double ImagesPerSecond, TimeSpan Elapsed, TimeSpan Remaining, long? TotalSteps = null);

/// <summary>A finished epoch: its row of metrics (train means, validation, monitors).</summary>
public sealed record EpochReport(int Epoch, long GlobalStep, IReadOnlyDictionary<string, double> Metrics, TimeSpan Elapsed);

/// <summary>What a front end (the CLI's progress bar, a test) hears while a run goes on.</summary>
public interface ITrainingObserver
{
    void OnStep(StepReport step);

    void OnEpoch(EpochReport epoch);

    /// <summary>A line for the user: checkpoints written, monitors run.</summary>
    void OnMessage(string message);

    /// <summary>A long piece of work before training (a picture folder's first decoding) has done <paramref name="done"/> of <paramref name="total"/>: for a progress bar.</summary>
    void OnProgress(string task, int done, int total) { }
}

/// <summary>Hears nothing: for tests and library callers that only want the result.</summary>
public sealed class SilentObserver : ITrainingObserver
{
    public void OnStep(StepReport step) { }

    public void OnEpoch(EpochReport epoch) { }

    public void OnMessage(string message) { }
}

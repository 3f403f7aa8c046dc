using Aavae.Data;
using Aavae.Evaluation;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Aavae.Checkpoints;

namespace Aavae.Training;

/// <summary>
/// What a callback hears from the <see cref="TrainingLoop"/>, in the order Lightning's hooks run:
/// fit start, per step (after backward, after the optimizer), per validation batch, at the end of
/// validation, at the end of an epoch, and on Ctrl-C. Every hook is optional.
/// </summary>
public interface ITrainingCallback
{
    /// <summary>Before the first step: create the run's files.</summary>
    void OnFitStart(TrainingPosition start) { }

    /// <summary>
    /// The one point where a step's gradients exist, between backward and the optimizer:
    /// data-parallel training averages them (and the step's metrics) here.
    /// </summary>
    void OnAfterBackward(AfterBackward step) { }

    /// <summary>After the optimizer step; a callback may add metrics (the online probe's) to the step's.</summary>
    void OnTrainBatchEnd(TrainBatchEnd step) { }

    /// <summary>After each validation batch, model in eval mode, without gradient.</summary>
    void OnValidationBatchEnd(ValidationBatchEnd batch) { }

    /// <summary>After the validation pass, model still in eval mode: a callback may add epoch metrics (probe accuracy, k-NN).</summary>
    void OnValidationEnd(EpochEnd epoch) { }

    /// <summary>The epoch's row is complete and the position moved on: log, report, checkpoint.</summary>
    void OnEpochEnd(EpochEnd epoch) { }

    /// <summary>Ctrl-C: the run stops after this step, at <paramref name="position"/>.</summary>
    void OnInterrupted(TrainingPosition position) { }
}

/// <summary>A step between backward and the optimizer.</summary>
/// <param name="parameters">The parameters the optimizer updates, with their gradients.</param>
/// <param name="metrics">The step's metrics as tensors, loss included; a callback may replace them (by their averages over processes).</param>
/// <param name="stopRequested">Whether this process was asked to stop (Ctrl-C, SIGTERM).</param>
public sealed class AfterBackward(IReadOnlyList<Parameter> parameters, Dictionary<string, Tensor> metrics, bool stopRequested)
{
    public IReadOnlyList<Parameter> Parameters { get; } = parameters;
    public Dictionary<string, Tensor> Metrics { get; } = metrics;

    /// <summary>Whether the run stops after this step; data-parallel training sets it on every process when any one asks.</summary>
    public bool StopRequested { get; set; } = stopRequested;
}

/// <summary>A finished optimizer step.</summary>
/// <param name="Step">Index of this step (0-based): the position's global step before it.</param>
/// <param name="Metrics">The step's metrics as tensors (read them only when they are shown), plus the learning rate.</param>
/// <param name="Loss">The loss, read once for the NaN guard and the progress display.</param>
public sealed record TrainBatchEnd(int Epoch, int Batch, long Step, TrainingPosition Position, ViewBatch Views,
    Dictionary<string, Tensor> Metrics, double LearningRate, double Loss, TimeSpan StepTime);

public sealed record ValidationBatchEnd(int Epoch, int Index, ViewBatch Views);

/// <summary>The end of an epoch's training and validation.</summary>
/// <param name="epoch">The epoch that ended.</param>
/// <param name="row">The epoch's metrics: epoch, step, train means, validation means; callbacks add theirs.</param>
/// <param name="last">The run's last epoch (or it stopped at max_steps).</param>
/// <param name="valFeatures">Encodes the labelled validation split; called once, when a callback first asks for <see cref="ValFeatures"/>.</param>
public sealed class EpochEnd(int epoch, Dictionary<string, double> row, bool last, Func<FeatureSet> valFeatures)
{
    private FeatureSet? features;

    public int Epoch { get; } = epoch;
    public Dictionary<string, double> Row { get; } = row;
    public bool Last { get; } = last;
    /// <summary>Where the run continues: the next epoch, or this one when it stopped early.</summary>
    public TrainingPosition Next { get; internal set; } = new(0, 0, 0);
    /// <summary>Whether every batch of the epoch was trained (else max_steps stopped it).</summary>
    public bool Completed { get; internal set; }

    public FeatureSet ValFeatures => features ??= valFeatures();

    internal void ReleaseFeatures()
    {
        features?.Dispose();
        features = null;
    }
}

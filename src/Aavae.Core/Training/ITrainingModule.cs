using Aavae.Data;
using Aavae.Objectives;
using Aavae.Optimization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Aavae.Training;

/// <summary>
/// What <see cref="TrainingLoop"/> drives (Lightning's LightningModule as its fit loop sees it): a
/// training step and a validation step, the optimizer and the parameters it updates, and the encoder
/// whose features the epoch's monitors read. <see cref="PretrainModule"/> is AAVAE's.
/// </summary>
public interface ITrainingModule
{
    Device Device { get; }
    int BatchesPerEpoch { get; }
    IStepOptimizer Optimizer { get; }
    /// <summary>The parameters the optimizer updates, in its order: where gradients are averaged across processes.</summary>
    IReadOnlyList<Parameter> Trainable { get; }
    /// <summary>Dynamic loss scaling for float16 gradients (16-mixed); null when gradients need none.</summary>
    GradScaler? Scaler { get; }
    /// <summary>The frozen-feature map the monitors encode the validation split with.</summary>
    nn.Module<Tensor, Tensor> Encoder { get; }

    /// <summary>Loss and metrics of one training batch at the learning rate of step <paramref name="globalStep"/> (training mode).</summary>
    (ObjectiveOutput Output, double LearningRate) TrainingStep(ViewBatch batch, long globalStep);

    /// <summary>Loss and metrics of a validation batch; the caller turns gradients off.</summary>
    ObjectiveOutput ValidationStep(ViewBatch batch);

    /// <summary>Training mode (dropout, BatchNorm's batch statistics) on or off.</summary>
    void SetTraining(bool training);
}

using Aavae.Distributed;
using Aavae.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace Aavae.Training;

/// <summary>
/// The reference's online fine-tuner (src/callbacks/online_eval.py): a linear classifier trained with Adam
/// (lr 1e-4) on detached encoder features while pre-training runs, so its accuracy tracks the
/// representation. Its weights are saved as <c>online_finetuner.weight/bias</c>, as Lightning does.
/// </summary>
public sealed class OnlineProbe : IDisposable
{
    public const string Prefix = Checkpoints.StateDicts.OnlineProbePrefix;
    public const double LearningRate = 1e-4;

    public OnlineProbe(int featureDim, int numClasses, Device device)
    {
        Layer = Linear(featureDim, numClasses);
        Layer.to(device);
        Optimizer = new AdamOptimizer([new ParameterGroup(Layer.parameters().ToList(), 0, false)], LearningRate);
    }

    public Linear Layer { get; }

    public AdamOptimizer Optimizer { get; }

    /// <summary>What a checkpoint keeps of the probe.</summary>
    public Checkpoints.ProbeState State => new(Layer, Optimizer);

    /// <param name="average">Under data parallelism: averages the gradients (and the loss and accuracy) over the processes before the update.</param>
    /// <returns>Cross-entropy and accuracy of the batch, before the update, as tensors (read them when shown).</returns>
    public (Tensor Loss, Tensor Accuracy) TrainStep(Tensor features, Tensor labels, GradientBucket? average = null)
    {
        var logits = Layer.call(features.detach());
        var loss = F.cross_entropy(logits, labels);
        Optimizer.ZeroGrad();
        loss.backward();
        var metrics = new Dictionary<string, Tensor> { ["loss"] = loss.detach(), ["acc"] = logits.argmax(1).eq(labels).to_type(ScalarType.Float32).mean() };
        average?.Average(metrics, stopRequested: false);
        Optimizer.Step();
        return (metrics["loss"], metrics["acc"]);
    }

    /// <returns>Summed cross-entropy and number of correct predictions.</returns>
    public (double LossSum, long Correct) Evaluate(Tensor features, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var logits = Layer.call(features);
        return (F.cross_entropy(logits, labels, reduction: Reduction.Sum).item<float>(), logits.argmax(1).eq(labels).sum().item<long>());
    }

    public void Dispose()
    {
        Optimizer.Dispose();
        Layer.Dispose();
    }
}

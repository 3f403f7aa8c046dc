using Aavae.Optimization;
using Aavae.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Aavae.Inference;

namespace Aavae.Evaluation;

/// <summary>
/// The linear-evaluation classifier's training, one step at a time: Linear(h, classes) initialised
/// from the seed, SGD with (Nesterov) momentum and weight decay, the learning rate decayed by a
/// cosine over every step (the reference's src/linear_eval.py). Linear evaluation and
/// <see cref="LinearProbe"/> both train with it; they differ in where their batches come from.
/// </summary>
public sealed class LinearClassifierTrainer : IDisposable
{
    private readonly SgdOptimizer sgd;
    private readonly LearningRateSchedule schedule;
    private readonly double learningRate;

    /// <param name="totalSteps">Steps the cosine decays over.</param>
    public LinearClassifierTrainer(int featureDim, int classes, long totalSteps, double learningRate, double momentum, bool nesterov, double weightDecay, int seed, Device? device = null)
    {
        Determinism.Seed(seed);
        Linear = nn.Linear(featureDim, classes);
        if (device is not null) Linear.to(device);
        sgd = new SgdOptimizer(Linear.parameters(), learningRate, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay);
        schedule = new LearningRateSchedule(0, totalSteps, DecayKind.Cosine);
        this.learningRate = learningRate;
    }

    /// <summary>The learning rate when none is given: 0.1 x batch / 256. The reference's linear_eval.py computes
    /// <c>0.1 * int(batch / 256)</c>, the same at its batch of 256 but 0 (no training) for smaller batches; the linear scaling is kept.</summary>
    public static double DefaultLearningRate(int batchSize) => 0.1 * batchSize / 256.0;

    public Linear Linear { get; }

    /// <summary>Optimizer steps taken so far.</summary>
    public long Steps { get; private set; }

    /// <summary>One SGD step on a batch of features and labels; the loss and logits live in the caller's dispose scope.</summary>
    public (Tensor Loss, Tensor Logits) Step(Tensor features, Tensor labels)
    {
        sgd.LearningRate = learningRate * schedule.Factor(Steps++);
        var logits = Linear.call(features);
        var loss = F.cross_entropy(logits, labels);
        sgd.ZeroGrad();
        loss.backward();
        sgd.Step();
        return (loss, logits);
    }

    public void Dispose()
    {
        sgd.Dispose();
        Linear.Dispose();
    }
}

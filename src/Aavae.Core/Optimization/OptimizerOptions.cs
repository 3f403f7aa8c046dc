using Aavae.Configuration;

namespace Aavae.Optimization;

/// <summary>The optimizer and its learning-rate schedule (LightningCLI's <c>optimizer</c> and <c>lr_scheduler</c> groups).</summary>
public sealed record OptimizerOptions
{
    [Setting("adam or lamb", Flag = "--optimizer")]
    public OptimizerKind Algorithm { get; init; } = OptimizerKind.Adam;

    [Setting("base learning rate", Min = 0, MinExclusive = true)]
    public double LearningRate { get; init; } = 2.5e-4;

    [Setting("weight decay (the AE takes the reference AE's 1e-6 under paper and reference)", Min = 0)]
    public double WeightDecay { get; init; }

    [Setting("no weight decay (nor LAMB adaptation) for biases and BatchNorm")]
    public bool ExcludeBnBias { get; init; }

    /// <summary>A fraction warms up over part of an epoch (rounded to whole steps); vae.py's argparse takes whole epochs.</summary>
    [Setting("epochs of linear learning-rate warm-up, a fraction allowed (the AE takes 10 under paper and reference)", Min = 0, Max = MaxWarmupEpochs)]
    public double WarmupEpochs { get; init; } = 10;

    /// <summary>Far past any real run, and small enough that steps and the hyper-parameters' int stay exact.</summary>
    public const double MaxWarmupEpochs = 100_000;

    /// <summary>vae.py's two int flags, --cosine_decay 1 and --linear_decay 1, are one choice here (<see cref="DecayKinds"/>).</summary>
    [Setting("none, cosine or linear: how the learning rate falls to 0 after warm-up (the reference's --cosine_decay 1 and --linear_decay 1)")]
    public DecayKind Decay { get; init; } = DecayKind.None;
}

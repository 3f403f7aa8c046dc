using System.Text.Json.Serialization;
using Aavae.Configuration;
using Aavae.Data;

namespace Aavae.Evaluation;

/// <summary>The linear-evaluation protocol's settings; defaults are the reference's src/linear_eval.py.</summary>
public sealed record LinearEvalOptions
{
    /// <summary>The reference's linear_eval.py trains the linear layer for 90 epochs.</summary>
    [Setting("training epochs of the linear layer", Aliases = ["--max-epochs", "--max_epochs"], Min = 1)]
    public int Epochs { get; init; } = 90;
    [Setting("images per batch", Min = 1)]
    public int BatchSize { get; init; } = 256;
    /// <summary>Null: <see cref="LinearClassifierTrainer.DefaultLearningRate"/>, 0.1 x batch / 256.</summary>
    [Setting("SGD learning rate (default 0.1 x batch / 256; the reference's linear_eval.py computes 0.1 x int(batch / 256), which is 0 below batch 256, so this keeps the linear scaling)")]
    public double? LearningRate { get; init; }
    [Setting("SGD momentum", Min = 0, Max = 1, MaxExclusive = true)]
    public double Momentum { get; init; } = 0.9;
    [Setting("Nesterov momentum (true or false)")]
    public bool Nesterov { get; init; } = true;
    [Setting("SGD weight decay", Min = 0)]
    public double WeightDecay { get; init; }
    /// <summary>Null: the reference's protocol for the data set (<see cref="FeatureModes.DefaultFor"/>), set by <see cref="For"/>.</summary>
    [Setting("augmented (a fresh training view every epoch, shuffled), cached (encode once through the evaluation transform, shuffled: fast on CPUs) or unshuffled (cached, in the split's fixed order); default: the reference's protocol for the data set, unshuffled for stl10 and augmented otherwise")]
    public FeatureMode? Features { get; init; }
    [Setting("seed for the linear layer, data order and augmentation")]
    public int Seed { get; init; }
    [Setting("train on at most N batches an epoch", Min = 1)]
    public int? LimitTrainBatches { get; init; }
    [Setting("validate and test on at most N batches", Min = 1)]
    public int? LimitEvalBatches { get; init; }
    /// <summary>Read the test split. Off while choosing settings, so that the test split is read once for each result reported.</summary>
    [Setting("read the test split (false: validation accuracy only, while choosing settings, so that the test split is read once for each reported result)", Flag = "--read-test")]
    public bool Test { get; init; } = true;
    /// <summary>
    /// Standardise cached features with the training split's mean and standard deviation before the
    /// linear layer. Null: on for <c>cached</c> (this project's fast CPU protocol), off for the
    /// reference's protocols (<c>augmented</c>, <c>unshuffled</c>).
    /// </summary>
    [Setting("standardise cached features with the training split's mean and standard deviation (an affine map the linear layer could absorb: it changes how fast SGD converges, not which classifiers exist); default: on for cached, off for the reference's augmented and unshuffled protocols")]
    public bool? Standardize { get; init; }
    /// <summary>Null: libtorch's count, given up to other processes while they keep cores busy (Runtime/CoreShare.cs).</summary>
    [Setting("libtorch threads, fixed (default: all cores, fewer while other processes keep some busy)", Min = 1, Max = 4096)]
    public int? Threads { get; init; }

    /// <summary>The protocol that runs; a choice left to the data set must be made by <see cref="For"/> first.</summary>
    [JsonIgnore]
    public FeatureMode Mode => Features ?? throw new InvalidOperationException("the feature mode is the data set's: call For(dataset) first");

    /// <summary>These options on <paramref name="dataset"/>: the feature mode, unless chosen, is the reference's for it.</summary>
    public LinearEvalOptions For(DatasetInfo dataset) => this with { Features = Features ?? FeatureModes.DefaultFor(dataset) };

    public bool StandardizesFeatures => Standardize ?? Features == FeatureMode.Cached;

    public double EffectiveLearningRate => LearningRate ?? LinearClassifierTrainer.DefaultLearningRate(BatchSize);

    public void Validate()
    {
        Settings.Check(this);
        OptionException.Check(EffectiveLearningRate > 0, nameof(LearningRate), $"must be > 0, got {EffectiveLearningRate}");
        OptionException.Check(!Nesterov || Momentum > 0, nameof(Nesterov), "needs a momentum above 0 (as torch.optim.SGD)");
        OptionException.Check(Standardize != true || Features is null || Features.Value.IsCached(), nameof(Standardize), $"needs cached or unshuffled features, not {Features?.Name()}");
    }
}

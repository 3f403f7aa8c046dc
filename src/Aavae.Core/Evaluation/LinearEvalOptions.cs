using Aavae.Configuration;

namespace Aavae.Evaluation;

/// <summary>The linear-evaluation protocol's settings; defaults are the reference's src/linear_eval.py.</summary>
public sealed record LinearEvalOptions
{
    public int Epochs { get; init; } = 90;
    public int BatchSize { get; init; } = 256;
    /// <summary>Null: <see cref="LinearClassifierTrainer.DefaultLearningRate"/>, 0.1 x batch / 256.</summary>
    public double? LearningRate { get; init; }
    public double Momentum { get; init; } = 0.9;
    public bool Nesterov { get; init; } = true;
    public double WeightDecay { get; init; }
    public FeatureMode Features { get; init; } = FeatureMode.Augmented;
    public int Seed { get; init; }
    public int? LimitTrainBatches { get; init; }
    public int? LimitEvalBatches { get; init; }
    /// <summary>Read the test split. Off while choosing settings, so that the test split is read once for each result reported.</summary>
    public bool Test { get; init; } = true;
    /// <summary>
    /// Standardise cached features with the training split's mean and standard deviation before the
    /// linear layer. Null: on for <c>cached</c> (this project's fast CPU protocol), off for the
    /// reference's protocols (<c>augmented</c>, <c>unshuffled</c>).
    /// </summary>
    public bool? Standardize { get; init; }
    /// <summary>Null: libtorch's count, given up to other processes while they keep cores busy (Runtime/CoreShare.cs).</summary>
    public int? Threads { get; init; }

    public bool StandardizesFeatures => Standardize ?? Features == FeatureMode.Cached;

    public double EffectiveLearningRate => LearningRate ?? LinearClassifierTrainer.DefaultLearningRate(BatchSize);

    public void Validate()
    {
        OptionException.Check(Epochs >= 1, nameof(Epochs), $"must be >= 1, got {Epochs}");
        OptionException.Check(BatchSize >= 1, nameof(BatchSize), $"must be >= 1, got {BatchSize}");
        OptionException.Check(EffectiveLearningRate > 0, nameof(LearningRate), $"must be > 0, got {EffectiveLearningRate}");
        OptionException.Check(WeightDecay >= 0, nameof(WeightDecay), $"must be >= 0, got {WeightDecay}");
        OptionException.Check(Momentum is >= 0 and < 1, nameof(Momentum), $"must lie in [0, 1), got {Momentum}");
        OptionException.Check(!Nesterov || Momentum > 0, nameof(Nesterov), "needs a momentum above 0 (as torch.optim.SGD)");
        OptionException.Check(Standardize != true || Features.IsCached(), nameof(Standardize), $"needs cached or unshuffled features, not {Features.Name()}");
        OptionException.Check(LimitTrainBatches is null or >= 1, nameof(LimitTrainBatches), $"must be >= 1, got {LimitTrainBatches}");
        OptionException.Check(Threads is null or >= 1 and <= 4096, nameof(Threads), $"must lie in [1, 4096], got {Threads}");
        OptionException.Check(LimitEvalBatches is null or >= 1, nameof(LimitEvalBatches), $"must be >= 1, got {LimitEvalBatches}");
    }
}

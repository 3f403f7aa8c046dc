using Aavae.Optimization;
using Aavae.Progress;
using Aavae.Configuration;
using System.Diagnostics;
using Aavae.Augmentation;
using Aavae.Data;
using Aavae.Models;
using Aavae.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Aavae.Evaluation;

/// <summary>
/// How the linear layer's training set is presented. <c>augmented</c>: the frozen encoder sees a
/// fresh training view every epoch, shuffled (the reference's linear_eval.py for CIFAR-10:
/// RandomCrop with reflect padding and a flip; RandomResizedCrop and a flip elsewhere).
/// <c>cached</c>: each split is encoded once through the evaluation transform and the same linear
/// layer trains on those features, shuffled: far faster on a CPU, usually a little less accurate.
/// <c>unshuffled</c>: cached features in the split's own order every epoch, which is what the
/// reference runs for STL-10 (linear_eval.py trains on <c>train_dataloader_labeled</c>, whose
/// data set uses the validation transform and <c>shuffle=False</c>; its RandomResizedCrop
/// transform is never used) and where the published 84.72% comes from.
/// </summary>
public enum FeatureMode { Augmented, Cached, Unshuffled }

public static class FeatureModes
{
    public static IReadOnlyList<string> Names { get; } = ["augmented", "cached", "unshuffled"];

    public static string Name(this FeatureMode mode) => mode.ToString().ToLowerInvariant();

    public static FeatureMode Parse(string mode) => mode.ToLowerInvariant() switch
    {
        "augmented" => FeatureMode.Augmented,
        "cached" => FeatureMode.Cached,
        "unshuffled" => FeatureMode.Unshuffled,
        _ => throw new OptionException(nameof(LinearEvalOptions.Features), $"{mode}: expected {string.Join(", ", Names)}"),
    };

    /// <summary>The reference's protocol for a data set: unshuffled cached features for STL-10, augmented views otherwise.</summary>
    public static FeatureMode DefaultFor(DatasetInfo dataset) =>
        dataset.LinearEvalUnshuffled ? FeatureMode.Unshuffled : FeatureMode.Augmented;

    /// <summary>One line a result carries, so that a reader knows which protocol produced it.</summary>
    public static string Describe(this FeatureMode mode) => mode switch
    {
        FeatureMode.Augmented => "a fresh augmented training view every epoch, shuffled",
        FeatureMode.Cached => "features encoded once through the evaluation transform, shuffled",
        _ => "features encoded once through the evaluation transform, in the split's fixed order (the reference's STL-10 protocol)",
    };

    public static bool IsCached(this FeatureMode mode) => mode != FeatureMode.Augmented;
}

/// <summary>The linear-evaluation protocol's settings; defaults are the reference's src/linear_eval.py.</summary>
public sealed record LinearEvalOptions
{
    public int Epochs { get; init; } = 90;
    public int BatchSize { get; init; } = 256;
    /// <summary>
    /// Null: 0.1 x batch / 256. The reference's linear_eval.py computes <c>0.1 * int(batch / 256)</c>,
    /// the same at its batch of 256 but 0 (no training) for smaller batches; the linear scaling is kept.
    /// </summary>
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

    public double EffectiveLearningRate => LearningRate ?? 0.1 * BatchSize / 256.0;

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

/// <summary>What a linear evaluation measured.</summary>
/// <param name="TestAccuracy">Null when the test split was not read (<see cref="LinearEvalOptions.Test"/> false).</param>
public sealed record LinearEvalResult(string Mode, string Protocol, int Epochs, double? TestAccuracy, IReadOnlyList<double> ValAccuracy,
    IReadOnlyList<double> TrainLoss, int TrainImages, int? TestImages, double Seconds);

/// <summary>Trains Linear(h, classes) on a frozen encoder's features with SGD + Nesterov and cosine decay, then reports top-1 on the validation split each epoch and on the test split at the end (unless told not to read it).</summary>
public sealed class LinearEval(LinearEvalOptions options, ITrainingObserver observer)
{
    public LinearEvalResult Run(ResNetEncoder encoder, DataModule data, Device device) => Run(encoder, encoder.FeatureDim, data, device);

    /// <param name="encoder">Any frozen feature map, e.g. <see cref="RawPixels"/> for the logistic-regression baseline.</param>
    public LinearEvalResult Run(nn.Module<Tensor, Tensor> encoder, int featureDim, DataModule data, Device device)
    {
        options.Validate();
        if (data.Train.NumClasses < 1) throw new ArgumentException($"{data.Train.Name} has no labels to evaluate against");
        var clock = Stopwatch.StartNew();
        var views = new Views(data.Info, device);
        encoder.to(device);
        encoder.eval();
        foreach (var p in encoder.parameters()) p.requires_grad = false;

        // The encoder is frozen and the evaluation view deterministic, so validation and test
        // features are the same every epoch in both modes: encode them once.
        observer.OnMessage(options.Test ? $"encoding {data.Val.Name} and {data.Test.Name}" : $"encoding {data.Val.Name} (the test split is not read)");
        using var val = FeatureExtractor.Encode(encoder, data.Val, views, options.BatchSize, options.LimitEvalBatches);
        using var test = options.Test ? FeatureExtractor.Encode(encoder, data.Test, views, options.BatchSize, options.LimitEvalBatches) : null;
        if (!options.Features.IsCached())
            return Train(featureDim, data.Info.NumClasses, data.Train.Count, data.Train.Name, val, test, device, clock,
                (indices, rng) => AugmentedBatch(data.Train, views, indices, rng),
                images => { using (no_grad()) return encoder.call(images); });
        using var cached = FeatureExtractor.Encode(encoder, data.Train, views, options.BatchSize, options.LimitTrainBatches,
            (b, n) => { if (b == n) observer.OnMessage($"encoded {data.Train.Name}"); });
        return Fit(cached, val, test, data.Info.NumClasses, device, clock);
    }

    /// <summary>
    /// The cached protocols on features already encoded (a monitor that has the training split's
    /// features for k-NN reuses them here).
    /// </summary>
    /// <param name="test">Null: the test split is not read and the result carries no test accuracy.</param>
    public LinearEvalResult Fit(FeatureSet train, FeatureSet val, FeatureSet? test, int numClasses, Device device, Stopwatch? clock = null)
    {
        options.Validate();
        if (!options.Features.IsCached()) throw new ArgumentException($"features already encoded need a cached protocol, not {options.Features.Name()}");
        if (!options.StandardizesFeatures)
            return Train((int)train.Features.shape[1], numClasses, train.Count, "cached training features", val, test, device, clock ?? Stopwatch.StartNew(),
                (indices, _) => CachedBatch(train, indices), features => features.to(device));
        var (scaledTrain, scaledVal, scaledTest) = Standardized(train, val, test);
        using (scaledTrain)
        using (scaledVal)
        using (scaledTest)
            return new LinearEval(options with { Standardize = false }, observer).Fit(scaledTrain, scaledVal, scaledTest, numClasses, device, clock);
    }

    /// <summary>
    /// The three splits standardised with the training split's mean and standard deviation: an affine
    /// map the linear layer could absorb, so the same classifiers are reachable and SGD reaches them
    /// sooner (features of very different scales make the problem ill-conditioned). Statistics in
    /// float64: a constant feature (a padded border pixel, a dead unit) must map to exactly 0, where
    /// float32 rounding of its mean would leave noise divided by the floor.
    /// </summary>
    private static (FeatureSet Train, FeatureSet Val, FeatureSet? Test) Standardized(FeatureSet train, FeatureSet val, FeatureSet? test)
    {
        using var train64 = train.Features.to_type(ScalarType.Float64);
        using var mean = train64.mean([0L], keepdim: true);
        using var tiny = 1e-6.ToScalar();
        using var std = train64.std(0, keepdim: true).clamp_min_(tiny);
        FeatureSet Scaled(FeatureSet set)
        {
            using var scope = NewDisposeScope();
            var scaled = set.Features.to_type(ScalarType.Float64).sub(mean).div_(std).to_type(set.Features.dtype);
            return new(scaled.DetachFromDisposeScope(), set.Labels.alias().DetachFromDisposeScope());
        }
        return (Scaled(train), Scaled(val), test is null ? null : Scaled(test));
    }

    /// <param name="makeBatch">Positions of the training set to a batch (images, or features already encoded).</param>
    /// <param name="features">A batch's images to the linear layer's input.</param>
    private LinearEvalResult Train(int featureDim, int numClasses, int trainCount, string trainName, FeatureSet val, FeatureSet? test, Device device, Stopwatch clock,
        Func<long[], Random, LabelledBatch> makeBatch, Func<Tensor, Tensor> features)
    {
        Determinism.Seed(options.Seed);
        using var linear = nn.Linear(featureDim, numClasses);
        linear.to(device);
        using var sgd = new SgdOptimizer(linear.parameters(), options.EffectiveLearningRate, momentum: options.Momentum, nesterov: options.Nesterov, weightDecay: options.WeightDecay);
        int batches = Math.Min((trainCount + options.BatchSize - 1) / options.BatchSize, options.LimitTrainBatches ?? int.MaxValue);
        var schedule = new LearningRateSchedule(0, (long)batches * options.Epochs, DecayKind.Cosine);

        var valAccuracy = new List<double>();
        var trainLoss = new List<double>();
        long step = 0;
        var progress = new ProgressClock();
        // Cached-feature steps take about a millisecond: collect every 10th so the upkeep stays small beside them.
        var memory = new StepMemory(collectEvery: 10);
        using var share = CoreShare.ForLoop(options.Threads, observer.OnMessage);
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            double lossSum = 0, correct = 0, seen = 0;
            var loader = new BatchLoader<LabelledBatch>(trainCount, trainName, new LoaderOptions(options.BatchSize, Shuffle: options.Features != FeatureMode.Unshuffled, DropLast: false, options.Seed, epoch, options.LimitTrainBatches,
                    Prefetch: LoaderOptions.PrefetchOn(device)), makeBatch);
            int b = 0;
            var epochClock = Stopwatch.StartNew();
            foreach (var batch in loader)
            {
                using (batch)
                using (var scope = NewDisposeScope())
                {
                    var x = features(batch.Images);
                    var labels = batch.Labels.to(device);
                    sgd.LearningRate = options.EffectiveLearningRate * schedule.Factor(step);
                    var logits = linear.call(x);
                    var loss = F.cross_entropy(logits, labels);
                    sgd.ZeroGrad();
                    loss.backward();
                    sgd.Step();
                    step++;
                    b++;
                    long n = labels.shape[0];
                    float lossValue = loss.item<float>();
                    lossSum += lossValue * n;
                    correct += logits.argmax(1).eq(labels).sum().item<long>();
                    seen += n;
                    observer.OnStep(new StepReport(epoch, options.Epochs, b, batches, step, lossValue, ProgressClock.ImagesPerSecond(n, epochClock.Elapsed / b),
                        progress.Elapsed, progress.Remaining(step, (long)batches * options.Epochs - step)));
                }
                memory.AfterStep();
                share.AfterStep();
            }
            NativeMemory.Trim();
            double valAcc = Accuracy(linear, val, device);
            valAccuracy.Add(valAcc);
            trainLoss.Add(lossSum / seen);
            observer.OnEpoch(new EpochReport(epoch, step, new Dictionary<string, double>
            {
                ["train_loss"] = lossSum / seen, ["train_acc"] = correct / seen, ["val_acc"] = valAcc,
            }, clock.Elapsed));
        }
        double? testAcc = test is null ? null : Accuracy(linear, test, device);
        return new LinearEvalResult(options.Features.Name(), options.Features.Describe(), options.Epochs, testAcc, valAccuracy, trainLoss,
            trainCount, test?.Count, clock.Elapsed.TotalSeconds);
    }

    private static LabelledBatch AugmentedBatch(IImageSource source, Views views, long[] indices, Random rng)
    {
        using var scope = NewDisposeScope();
        var (x, labels) = views.LinearEvalTrain(source, indices, rng);
        return new LabelledBatch(x.DetachFromDisposeScope(), labels.DetachFromDisposeScope());
    }

    private static LabelledBatch CachedBatch(FeatureSet cached, long[] indices)
    {
        using var scope = NewDisposeScope();
        using var index = tensor(indices);
        return new LabelledBatch(cached.Features.index_select(0, index).DetachFromDisposeScope(), cached.Labels.index_select(0, index).DetachFromDisposeScope());
    }

    public static double Accuracy(nn.Module<Tensor, Tensor> linear, FeatureSet set, Device device, int chunk = 1024)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long correct = 0;
        for (int start = 0; start < set.Count; start += chunk)
        {
            int end = Math.Min(start + chunk, set.Count);
            var logits = linear.call(set.Features[start..end].to(device));
            correct += logits.argmax(1).eq(set.Labels[start..end].to(device)).sum().item<long>();
        }
        return (double)correct / set.Count;
    }
}

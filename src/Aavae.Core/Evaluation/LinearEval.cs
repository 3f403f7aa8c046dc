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

/// <summary>Trains Linear(h, classes) on a frozen encoder's features with SGD + Nesterov and cosine decay, then reports top-1 on the validation split each epoch and on the test split at the end (unless told not to read it).</summary>
public sealed class LinearEval(LinearEvalOptions options, ITrainingObserver observer)
{
    public LinearEvalResult Run(ResNetEncoder encoder, DataModule data, Device device) => Run(encoder, encoder.FeatureDim, data, device);

    /// <param name="encoder">Any frozen feature map, e.g. <see cref="RawPixels"/> for the logistic-regression baseline.</param>
    public LinearEvalResult Run(nn.Module<Tensor, Tensor> encoder, int featureDim, DataModule data, Device device)
    {
        if (options.Features is null) return new LinearEval(options.For(data.Info), observer).Run(encoder, featureDim, data, device);
        return Evaluate(encoder, featureDim, data, device) with { Dataset = data.Info.Name, Classes = data.Info.ClassNames };
    }

    private LinearEvalResult Evaluate(nn.Module<Tensor, Tensor> encoder, int featureDim, DataModule data, Device device)
    {
        options.Validate();
        observer.OnMessage(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"linear evaluation, {options.Mode.Name()} features ({options.Mode.Describe()}): {options.Epochs} epochs, batch {options.BatchSize}, SGD lr {options.EffectiveLearningRate:G3} (Nesterov, cosine), on {device}"));
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
        if (!options.Mode.IsCached())
            return Train(featureDim, data.Info.NumClasses, data.Train.Count, data.Train.Name, val, test, device, clock,
                (indices, rng) => AugmentedBatch(data.Train, views, indices, rng),
                images => { using (no_grad()) return encoder.call(images); });
        using var cached = FeatureExtractor.Encode(encoder, data.Train, views, options.BatchSize, options.LimitTrainBatches,
            (b, n) => { if (b == n) observer.OnMessage($"encoded {data.Train.Name}"); });
        // With the training split's features in memory, the k-NN score of the same features costs one
        // similarity search, not another encoding: reported beside the linear one, on the same split.
        double knn = Knn.Accuracy(cached, test ?? val, data.Info.NumClasses);
        return Fit(cached, val, test, data.Info.NumClasses, device, clock) with { KnnAccuracy = knn };
    }

    /// <summary>What this evaluation does on <paramref name="data"/>: the images it encodes and the linear layer's steps (what a time budget sets time aside for).</summary>
    public (long Images, long LinearSteps) Work(DataModule data)
    {
        var o = options.For(data.Info);
        long evaluated = Encoded(o, data.Val.Count, o.LimitEvalBatches) + (o.Test ? Encoded(o, data.Test.Count, o.LimitEvalBatches) : 0);
        long train = Encoded(o, data.Train.Count, o.LimitTrainBatches);
        // The augmented protocol encodes a fresh view of the training split every epoch; the cached ones encode it once.
        return (evaluated + train * (o.Mode.IsCached() ? 1 : o.Epochs), (long)Batches(o, data.Train.Count, o.LimitTrainBatches) * o.Epochs);
    }

    private static int Batches(LinearEvalOptions o, int count, int? limit) =>
        new LoaderOptions(o.BatchSize, Shuffle: false, DropLast: false, o.Seed, LimitBatches: limit).BatchesOf(count);

    /// <summary>The images of a split of <paramref name="count"/> that the evaluation encodes, its batch limit applied.</summary>
    private static int Encoded(LinearEvalOptions o, int count, int? limit) => (int)Math.Min(count, (long)Batches(o, count, limit) * o.BatchSize);

    /// <summary>
    /// Seconds the k-NN score of the cached protocols takes on <paramref name="data"/> (0 for the
    /// augmented one): a search of the whole training split's bank, timed for one chunk of queries
    /// on random features and scaled to the queries it will answer. The global generator is left as it was.
    /// </summary>
    public double KnnSeconds(DataModule data, int featureDim) => !options.Mode.IsCached() ? 0 : Determinism.KeepingGenerator(() =>
    {
        var o = options.For(data.Info);
        int bankSize = Encoded(o, data.Train.Count, o.LimitTrainBatches);
        int queries = Encoded(o, o.Test ? data.Test.Count : data.Val.Count, o.LimitEvalBatches);
        if (bankSize == 0 || queries == 0) return 0;
        const int timed = 256;
        int numClasses = Math.Max(1, data.Info.NumClasses);
        using var bank = new FeatureSet(randn(bankSize, featureDim), randint(numClasses, [bankSize]));
        using var sample = new FeatureSet(randn(Math.Min(timed, queries), featureDim), randint(numClasses, [Math.Min(timed, queries)]));
        var clock = Stopwatch.StartNew();
        Knn.Accuracy(bank, sample, numClasses);
        return clock.Elapsed.TotalSeconds * queries / sample.Count;
    });

    /// <summary>Seconds a step of the linear layer takes here on encoded features, timed over a few steps; the global generator is left as it was.</summary>
    public double LinearStepSeconds(int featureDim, int numClasses, Device device) => Determinism.KeepingGenerator(() =>
    {
        const int warm = 3, timed = 20;
        using var trainer = new LinearClassifierTrainer(featureDim, numClasses, warm + timed, options.EffectiveLearningRate, options.Momentum, options.Nesterov, options.WeightDecay, options.Seed, device);
        using var features = randn(options.BatchSize, featureDim, device: device);
        using var labels = zeros(options.BatchSize, ScalarType.Int64, device: device);
        var clock = new Stopwatch();
        for (int i = 0; i < warm + timed; i++)
        {
            if (i == warm) clock.Start();
            using var scope = NewDisposeScope();
            var (loss, _) = trainer.Step(features, labels);
            loss.item<float>();
        }
        return clock.Elapsed.TotalSeconds / timed;
    });

    /// <summary>
    /// The cached protocols on features already encoded (a monitor that has the training split's
    /// features for k-NN reuses them here).
    /// </summary>
    /// <param name="test">Null: the test split is not read and the result carries no test accuracy.</param>
    public LinearEvalResult Fit(FeatureSet train, FeatureSet val, FeatureSet? test, int numClasses, Device device, Stopwatch? clock = null)
    {
        options.Validate();
        if (!options.Mode.IsCached()) throw new ArgumentException($"features already encoded need a cached protocol, not {options.Mode.Name()}");
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
        int batches = new LoaderOptions(options.BatchSize, Shuffle: false, DropLast: false, options.Seed, LimitBatches: options.LimitTrainBatches).BatchesOf(trainCount);
        using var trainer = new LinearClassifierTrainer(featureDim, numClasses, (long)batches * options.Epochs, options.EffectiveLearningRate,
            options.Momentum, options.Nesterov, options.WeightDecay, options.Seed, device);

        var valAccuracy = new List<double>();
        var trainLoss = new List<double>();
        var progress = new ProgressClock();
        // Cached-feature steps take about a millisecond: collect every 10th so the upkeep stays small beside them.
        var memory = new StepMemory(collectEvery: 10);
        using var share = CoreShare.ForLoop(options.Threads, observer.OnMessage);
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            double lossSum = 0, correct = 0, seen = 0;
            var loader = new BatchLoader<LabelledBatch>(trainCount, trainName, new LoaderOptions(options.BatchSize, Shuffle: options.Mode != FeatureMode.Unshuffled, DropLast: false, options.Seed, epoch, options.LimitTrainBatches,
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
                    var (loss, logits) = trainer.Step(x, labels);
                    long step = trainer.Steps;
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
            double valAcc = Accuracy(trainer.Linear, val, device);
            valAccuracy.Add(valAcc);
            trainLoss.Add(lossSum / seen);
            observer.OnEpoch(new EpochReport(epoch, trainer.Steps, new Dictionary<string, double>
            {
                ["train_loss"] = lossSum / seen, ["train_acc"] = correct / seen, ["val_acc"] = valAcc,
            }, clock.Elapsed));
        }
        var confusion = Confusion(trainer.Linear, test ?? val, numClasses, device, test is null ? "val" : "test");
        double? testAcc = test is null ? null : confusion.Accuracy;
        return new LinearEvalResult(options.Mode.Name(), options.Mode.Describe(), options.Epochs, testAcc, valAccuracy, trainLoss,
            trainCount, test?.Count, clock.Elapsed.TotalSeconds) { Confusion = confusion };
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

    /// <summary>How often each class (row) was predicted as each class (column) on <paramref name="set"/>.</summary>
    public static ConfusionMatrix Confusion(nn.Module<Tensor, Tensor> linear, FeatureSet set, int numClasses, Device device, string split, int chunk = 1024)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var classes = numClasses.ToScalar();
        var counts = zeros(numClasses * numClasses, dtype: ScalarType.Int64);
        foreach (var (predicted, labels) in Predictions(linear, set, device, chunk))
            counts.add_(labels.cpu().mul(classes).Plus(predicted.cpu()).bincount(null, numClasses * numClasses), Scalars.One);
        var flat = counts.data<long>().ToArray();
        return new ConfusionMatrix(split, Enumerable.Range(0, numClasses).Select(r => (IReadOnlyList<long>)flat[(r * numClasses)..((r + 1) * numClasses)]).ToList());
    }

    public static double Accuracy(nn.Module<Tensor, Tensor> linear, FeatureSet set, Device device, int chunk = 1024)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long correct = 0;
        foreach (var (predicted, labels) in Predictions(linear, set, device, chunk))
            correct += predicted.eq(labels).sum().item<long>();
        return (double)correct / set.Count;
    }

    /// <summary>The layer's predicted classes and the labels, on <paramref name="device"/>, a chunk at a time; in the caller's dispose scope and no_grad.</summary>
    private static IEnumerable<(Tensor Predicted, Tensor Labels)> Predictions(nn.Module<Tensor, Tensor> linear, FeatureSet set, Device device, int chunk)
    {
        for (int start = 0; start < set.Count; start += chunk)
        {
            int end = Math.Min(start + chunk, set.Count);
            yield return (linear.call(set.Features[start..end].to(device)).argmax(1), set.Labels[start..end].to(device));
        }
    }
}

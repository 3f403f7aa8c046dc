using Aavae.Progress;
using Aavae.Configuration;
using Aavae.Data;
using Aavae.Evaluation;
using Aavae.Models;
using Aavae.Training;
using static TorchSharp.torch;
using Aavae.Embedding;

namespace Aavae.Tests.Evaluation;

public class LinearEvalTests
{
    [Theory]
    [InlineData(FeatureMode.Cached)]
    [InlineData(FeatureMode.Augmented)]
    public void LinearProbeOnRandomConvFeaturesBeatsChance(FeatureMode mode)
    {
        // Random convolutional features of Fashion-MNIST are far from useless: after 48 steps on
        // 3,072 images a linear layer on them is well over the 10% of chance (seed 0: 36.9%
        // cached, 19.2% with augmented views, which make the task harder).
        using var data = DataModule.Load("fashion-mnist", null);
        Aavae.Runtime.Determinism.Seed(0);
        using var encoder = new ResNetEncoder(Architecture.Encoder("resnet18"), Stem.Cifar, width: 4);
        var options = new LinearEvalOptions { Epochs = 4, BatchSize = 256, Features = mode, LimitTrainBatches = 12, LimitEvalBatches = 4 };
        var result = new LinearEval(options, new SilentObserver()).Run(encoder, data, CPU);
        Assert.Equal(4, result.ValAccuracy.Count);
        Assert.Equal(1024, result.TestImages);
        Assert.True(result.TestAccuracy > 0.15, $"test accuracy {result.TestAccuracy}");
        Assert.True(result.TrainLoss[^1] < result.TrainLoss[0], "training loss did not fall");
        Assert.All(encoder.parameters(), p => Assert.False(p.requires_grad));
    }

    [Fact]
    public void LearningRateScalesWithBatchSizeAsTheProtocolSays()
    {
        Assert.Equal(0.1, new LinearEvalOptions { BatchSize = 256 }.EffectiveLearningRate, 12);
        Assert.Equal(0.4, new LinearEvalOptions { BatchSize = 1024 }.EffectiveLearningRate, 12);
    }

    [Fact]
    public void UnshuffledTrainsOnTheSplitsOwnOrderAsTheReferencesStl10Run()
    {
        // The reference's STL-10 linear evaluation: features through the evaluation transform,
        // batches in the split's order every epoch (shuffle=False), SGD + Nesterov with cosine decay.
        // Rebuilt here with TorchSharp's own SGD: the per-epoch training loss must agree.
        using var data = DataModule.Load("fashion-mnist", null);
        using var pixels = new RawPixels(3, 32, 32);
        const int batch = 64, batches = 4, epochs = 2;
        var options = new LinearEvalOptions { Epochs = epochs, BatchSize = batch, Features = FeatureMode.Unshuffled, LimitTrainBatches = batches, LimitEvalBatches = 1 };
        var result = new LinearEval(options, new SilentObserver()).Run(pixels, pixels.FeatureDim, data, CPU);
        Assert.Equal(("unshuffled", batch * batches), (result.Mode, result.TrainImages));
        Assert.Contains("fixed order", result.Protocol);

        using var features = FeatureExtractor.Encode(pixels, data.Train, new Aavae.Augmentation.Views(data.Info, CPU), batch, batches);
        Aavae.Runtime.Determinism.Seed(0);
        using var linear = nn.Linear(pixels.FeatureDim, 10);
        double baseLr = 0.1 * batch / 256;
        using var sgd = optim.SGD(linear.parameters(), baseLr, momentum: 0.9, nesterov: true);
        var expected = new List<double>();
        int step = 0, total = batches * epochs;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            double sum = 0;
            for (int b = 0; b < batches; b++, step++)
            {
                using var scope = NewDisposeScope();
                foreach (var g in sgd.ParamGroups) g.LearningRate = baseLr * 0.5 * (1 + Math.Cos(Math.PI * step / total));
                var loss = nn.functional.cross_entropy(linear.call(features.Features[(b * batch)..((b + 1) * batch)]), features.Labels[(b * batch)..((b + 1) * batch)]);
                sgd.zero_grad();
                loss.backward();
                sgd.step();
                sum += loss.item<float>() * batch;
            }
            expected.Add(sum / (batch * batches));
        }
        Assert.Equal(expected.Count, result.TrainLoss.Count);
        for (int e = 0; e < epochs; e++) Assert.Equal(expected[e], result.TrainLoss[e], 5);

        var shuffled = new LinearEval(options with { Features = FeatureMode.Cached }, new SilentObserver()).Run(pixels, pixels.FeatureDim, data, CPU);
        Assert.NotEqual(result.TrainLoss[1], shuffled.TrainLoss[1]);
    }

    [Fact]
    public void ValidationOnlyReadsNoTestSplitAndFitOnCachedFeaturesIsTheSameProtocol()
    {
        // Choosing settings must not read the test split; and a monitor that fits the probe on
        // features it already encoded must get what linear-eval --features cached gets.
        using var data = DataModule.Load("fashion-mnist", null);
        using var pixels = new RawPixels(3, 32, 32);
        var options = new LinearEvalOptions { Epochs = 3, BatchSize = 64, Features = FeatureMode.Cached, LimitTrainBatches = 5, LimitEvalBatches = 2, Standardize = false };
        var full = new LinearEval(options, new SilentObserver()).Run(pixels, pixels.FeatureDim, data, CPU);
        var valOnly = new LinearEval(options with { Test = false }, new SilentObserver()).Run(pixels, pixels.FeatureDim, data, CPU);
        Assert.NotNull(full.TestAccuracy);
        Assert.Equal(128, full.TestImages);
        Assert.Null(valOnly.TestAccuracy);
        Assert.Null(valOnly.TestImages);
        Assert.Equal(full.ValAccuracy, valOnly.ValAccuracy);

        var views = new Aavae.Augmentation.Views(data.Info, CPU);
        using var train = FeatureExtractor.Encode(pixels, data.Train, views, 64, 5);
        using var val = FeatureExtractor.Encode(pixels, data.Val, views, 64, 2);
        var fitted = new LinearEval(options, new SilentObserver()).Fit(train, val, test: null, data.Info.NumClasses, CPU);
        Assert.Equal(full.TrainLoss, fitted.TrainLoss);
        Assert.Equal(full.ValAccuracy, fitted.ValAccuracy);
        Assert.Throws<ArgumentException>(() => new LinearEval(options with { Features = FeatureMode.Augmented }, new SilentObserver()).Fit(train, val, null, 10, CPU));
    }

    [Fact]
    public void TheConfusionMatrixCountsEachTrueClassAgainstItsPrediction()
    {
        // Three classes; the layer is the identity, so the prediction is the feature that is largest.
        // True 0 predicted 0, 0; true 1 predicted 2; true 2 predicted 2, 1, 2.
        using var linear = nn.Linear(3, 3, hasBias: false);
        using (no_grad()) linear.weight!.copy_(eye(3));
        using var features = tensor(new float[,] { { 1, 0, 0 }, { 2, 1, 0 }, { 0, 0, 1 }, { 0, 0, 3 }, { 0, 1, 0 }, { 1, 0, 2 } });
        using var labels = tensor(new long[] { 0, 0, 1, 2, 2, 2 });
        var set = new FeatureSet(features, labels);
        var matrix = LinearEval.Confusion(linear, set, 3, CPU, "test", chunk: 4);
        Assert.Equal([[2L, 0, 0], [0L, 0, 1], [0L, 1, 2]], matrix.Counts.Select(r => r.ToArray()).ToArray());
        Assert.Equal((6L, 4.0 / 6), (matrix.Total, matrix.Accuracy));
        Assert.Equal("test", matrix.Split);
    }

    [Fact]
    public void TheResultsConfusionMatrixIsOfTheSplitItsAccuracyIsOf()
    {
        using var data = DataModule.Load("fashion-mnist", null);
        using var pixels = new RawPixels(3, 32, 32);
        var options = new LinearEvalOptions { Epochs = 2, BatchSize = 64, Features = FeatureMode.Cached, LimitTrainBatches = 5, LimitEvalBatches = 2 };
        var full = new LinearEval(options, new SilentObserver()).Run(pixels, pixels.FeatureDim, data, CPU);
        Assert.Equal(("test", 128L, 10), (full.Confusion!.Split, full.Confusion.Total, full.Confusion.Counts.Count));
        Assert.Equal(full.TestAccuracy!.Value, full.Confusion.Accuracy, 12);
        var valOnly = new LinearEval(options with { Test = false }, new SilentObserver()).Run(pixels, pixels.FeatureDim, data, CPU);
        Assert.Equal(("val", 128L), (valOnly.Confusion!.Split, valOnly.Confusion.Total));
        Assert.Equal(valOnly.ValAccuracy[^1], valOnly.Confusion.Accuracy, 12);
    }

    [Fact]
    public void TheCachedProtocolReportsTheKnnAccuracyThatTheKnnEvaluationComputesOnTheSameSplits()
    {
        // The k-NN figure beside the linear one comes from the features the linear evaluation cached;
        // the k-NN evaluation encodes both splits itself: the two must agree to the image.
        using var data = DataModule.Load("fashion-mnist", null);
        using var pixels = new RawPixels(3, 32, 32);
        var options = new LinearEvalOptions { Epochs = 1, BatchSize = 64, Features = FeatureMode.Cached, LimitTrainBatches = 4, LimitEvalBatches = 4 };
        var result = new LinearEval(options, new SilentObserver()).Run(pixels, pixels.FeatureDim, data, CPU);
        var knn = Knn.Evaluate(pixels, data, new KnnOptions { BatchSize = 64, LimitBatches = 4 }, CPU);
        Assert.Equal((256, 256), (knn.TrainImages, knn.TestImages));
        Assert.Equal(knn.TestAccuracy, result.KnnAccuracy);
        // Pixels are a weak but real feature: well above the 10% of chance with 256 neighbours to vote.
        Assert.InRange(result.KnnAccuracy!.Value, 0.4, 1.0);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"k-NN {100 * knn.TestAccuracy:F2}%"), result.Summary());

        // Without the test split it is scored on the validation split, like the linear figure.
        var valOnly = new LinearEval(options with { Test = false }, new SilentObserver()).Run(pixels, pixels.FeatureDim, data, CPU);
        var views = new Aavae.Augmentation.Views(data.Info, CPU);
        using var train = FeatureExtractor.Encode(pixels, data.Train, views, 64, 4);
        using var val = FeatureExtractor.Encode(pixels, data.Val, views, 64, 4);
        Assert.Equal(Knn.Accuracy(train, val, data.Info.NumClasses), valOnly.KnnAccuracy);

        var augmented = new LinearEval(options with { Features = FeatureMode.Augmented }, new SilentObserver()).Run(pixels, pixels.FeatureDim, data, CPU);
        Assert.Null(augmented.KnnAccuracy);
    }

    [Fact]
    public void StandardisedFeaturesUseTheTrainingSplitsStatisticsForEverySplit()
    {
        // The probe on standardised features must be the probe on features standardised by hand
        // (float64, the training split's mean and sample standard deviation applied to validation too).
        using var data = DataModule.Load("fashion-mnist", null);
        using var pixels = new RawPixels(3, 32, 32);
        var views = new Aavae.Augmentation.Views(data.Info, CPU);
        using var train = FeatureExtractor.Encode(pixels, data.Train, views, 64, 4);
        using var val = FeatureExtractor.Encode(pixels, data.Val, views, 64, 2);
        var options = new LinearEvalOptions { Epochs = 2, BatchSize = 64, Features = FeatureMode.Cached };
        Assert.True(options.StandardizesFeatures);
        Assert.False((options with { Features = FeatureMode.Unshuffled }).StandardizesFeatures);
        var standardised = new LinearEval(options, new SilentObserver()).Fit(train, val, null, 10, CPU);

        using var x = train.Features.to_type(ScalarType.Float64);
        using var mean = x.mean([0L], keepdim: true);
        using var std = x.std(0, keepdim: true).clamp_min(1e-6);
        FeatureSet ByHand(FeatureSet set) => new(((set.Features.to_type(ScalarType.Float64) - mean) / std).to_type(ScalarType.Float32), set.Labels.clone());
        using var trainByHand = ByHand(train);
        using var valByHand = ByHand(val);
        var plain = new LinearEval(options with { Standardize = false }, new SilentObserver()).Fit(trainByHand, valByHand, null, 10, CPU);
        for (int e = 0; e < 2; e++) Assert.Equal(plain.TrainLoss[e], standardised.TrainLoss[e], 4);
        Assert.Equal(plain.ValAccuracy, standardised.ValAccuracy);
        Assert.Equal(nameof(LinearEvalOptions.Standardize),
            Assert.Throws<OptionException>(() => (options with { Features = FeatureMode.Augmented, Standardize = true }).Validate()).Option);
    }

    [Fact]
    public void EachDataSetDefaultsToTheReferencesProtocol()
    {
        Assert.Equal(FeatureMode.Unshuffled, FeatureModes.DefaultFor(DatasetInfo.Stl10));
        Assert.Equal(FeatureMode.Augmented, FeatureModes.DefaultFor(DatasetInfo.Cifar10));
        Assert.Equal(FeatureMode.Unshuffled, FeatureModes.Parse("UNSHUFFLED"));
        Assert.Equal(nameof(LinearEvalOptions.Features), Assert.Throws<OptionException>(() => FeatureModes.Parse("random")).Option);
    }
}

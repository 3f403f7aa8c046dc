using System.Text.Json;
using System.Text.Json.Serialization;
using Aavae.Evaluation;
using Aavae.IO;
using Aavae.Optimization;
using Aavae.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Aavae.Embedding;

namespace Aavae.Inference;

/// <summary>How a <see cref="LinearProbe"/> is trained: the linear-evaluation recipe (90 epochs, SGD, Nesterov momentum 0.9, cosine decay from 0.1 x batch / 256).</summary>
public sealed record LinearProbeOptions
{
    public int Epochs { get; init; } = 90;
    public int BatchSize { get; init; } = 256;
    /// <summary>Null: 0.1 x batch / 256, as linear evaluation (<see cref="Evaluation.LinearClassifierTrainer.DefaultLearningRate"/>).</summary>
    public double? LearningRate { get; init; }
    public double WeightDecay { get; init; }
    /// <summary>Fixes the initial weights and the order of the examples.</summary>
    public int Seed { get; init; }
}

/// <summary>
/// A linear classifier on feature vectors (from <see cref="Aavae.Embedding.ImageEmbedder.Embed(IReadOnlyList{string}, int)"/>):
/// fit it on labelled features, classify new ones, save it as a small JSON file and load it back.
/// </summary>
public sealed class LinearProbe
{
    private readonly float[] weight;   // [classes, featureDim], row-major
    private readonly float[] bias;

    private LinearProbe(int featureDim, IReadOnlyList<string> classes, float[] weight, float[] bias)
    {
        if (weight.Length != featureDim * classes.Count || bias.Length != classes.Count)
            throw new InvalidDataException($"a probe of {classes.Count} classes on {featureDim} features needs {featureDim * classes.Count} weights and {classes.Count} biases, got {weight.Length} and {bias.Length}");
        FeatureDim = featureDim;
        Classes = classes;
        this.weight = weight;
        this.bias = bias;
    }

    public int FeatureDim { get; }

    /// <summary>The class names, by label (the labels' numbers when fitted without names).</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Trains a probe on <paramref name="features"/> with labels 0 .. classes - 1. Seeds libtorch's global generator with the options' seed.</summary>
    /// <param name="classNames">Names of the labels; null: their numbers.</param>
    public static LinearProbe Fit(IReadOnlyList<float[]> features, IReadOnlyList<int> labels, IReadOnlyList<string>? classNames = null, LinearProbeOptions? options = null)
    {
        options ??= new LinearProbeOptions();
        if (features.Count == 0) throw new ArgumentException("no features to fit on");
        if (features.Count != labels.Count) throw new ArgumentException($"{features.Count} feature vectors but {labels.Count} labels");
        int dim = features[0].Length;
        if (features.Any(f => f.Length != dim)) throw new ArgumentException($"feature vectors differ in length (the first has {dim})");
        int classes = classNames?.Count ?? labels.Max() + 1;
        if (labels.Any(l => l < 0 || l >= classes)) throw new ArgumentException($"labels must lie in 0 .. {classes - 1}");
        if (options.Epochs < 1 || options.BatchSize < 1) throw new ArgumentException("epochs and batch size must be >= 1");
        TorchRuntime.EnsureLoaded();

        using var scope = NewDisposeScope();
        var x = tensor(features.SelectMany(f => f).ToArray()).view(features.Count, dim);
        var y = tensor(labels.Select(l => (long)l).ToArray());
        int batches = (features.Count + options.BatchSize - 1) / options.BatchSize;
        using var trainer = new LinearClassifierTrainer(dim, classes, (long)batches * options.Epochs,
            options.LearningRate ?? LinearClassifierTrainer.DefaultLearningRate(options.BatchSize), momentum: 0.9, nesterov: true, options.WeightDecay, options.Seed);
        var rng = new Random(options.Seed);
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            var order = Enumerable.Range(0, features.Count).Select(i => (long)i).ToArray();
            rng.Shuffle(order);
            for (int start = 0; start < order.Length; start += options.BatchSize)
            {
                using var stepScope = NewDisposeScope();
                var index = tensor(order[start..Math.Min(order.Length, start + options.BatchSize)]);
                trainer.Step(x.index_select(0, index), y.index_select(0, index));
            }
        }
        var linear = trainer.Linear;
        var names = classNames ?? Enumerable.Range(0, classes).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return new LinearProbe(dim, names, linear.weight!.detach().contiguous().data<float>().ToArray(), linear.bias!.detach().data<float>().ToArray());
    }

    /// <summary>The class of highest score.</summary>
    public int Predict(float[] features)
    {
        var scores = Scores(features);
        return Array.IndexOf(scores, scores.Max());
    }

    /// <summary>Softmax over the classes.</summary>
    public float[] Probabilities(float[] features)
    {
        var scores = Scores(features);
        double max = scores.Max();
        var e = scores.Select(s => Math.Exp(s - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => (float)(v / sum)).ToArray();
    }

    /// <summary>Share of <paramref name="features"/> classified as <paramref name="labels"/> say.</summary>
    public double Accuracy(IReadOnlyList<float[]> features, IReadOnlyList<int> labels)
    {
        if (features.Count != labels.Count) throw new ArgumentException($"{features.Count} feature vectors but {labels.Count} labels");
        return features.Count == 0 ? 0 : features.Select((f, i) => Predict(f) == labels[i] ? 1.0 : 0.0).Sum() / features.Count;
    }

    private float[] Scores(float[] features)
    {
        if (features.Length != FeatureDim) throw new ArgumentException($"the probe takes {FeatureDim} features, got {features.Length}");
        var scores = new float[Classes.Count];
        for (int c = 0; c < scores.Length; c++)
        {
            double s = bias[c];
            for (int i = 0; i < FeatureDim; i++) s += weight[c * FeatureDim + i] * (double)features[i];
            scores[c] = (float)s;
        }
        return scores;
    }

    private sealed record Saved(
        [property: JsonPropertyName("format")] string Format,
        [property: JsonPropertyName("feature_dim")] int FeatureDim,
        [property: JsonPropertyName("classes")] string[] Classes,
        [property: JsonPropertyName("weight")] float[] Weight,
        [property: JsonPropertyName("bias")] float[] Bias);

    private const string FormatName = "aavae-linear-probe-1";

    /// <summary>Writes the probe as JSON (class names, weights, biases), whole or not at all.</summary>
    public void Save(string path)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(new Saved(FormatName, FeatureDim, [.. Classes], weight, bias));
        AtomicFile.Write(path, s => s.Write(json));
    }

    public static LinearProbe Load(string path)
    {
        Saved? saved;
        try
        {
            saved = JsonSerializer.Deserialize<Saved>(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a linear probe ({e.Message})", e);
        }
        if (saved is null || saved.Format != FormatName) throw new InvalidDataException($"{path}: not a linear probe (expected format {FormatName})");
        if (saved.Classes is null || saved.Weight is null || saved.Bias is null) throw new InvalidDataException($"{path}: a linear probe needs classes, weight and bias");
        try
        {
            return new LinearProbe(saved.FeatureDim, saved.Classes, saved.Weight, saved.Bias);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }
}

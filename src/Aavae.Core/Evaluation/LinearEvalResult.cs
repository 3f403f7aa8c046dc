using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aavae.IO;
using Aavae.Embedding;

namespace Aavae.Evaluation;

/// <summary>Counts of images of class <c>Counts[true][predicted]</c> on one split.</summary>
public sealed record ConfusionMatrix(string Split, IReadOnlyList<IReadOnlyList<long>> Counts)
{
    public long Total => Counts.Sum(r => r.Sum());

    public double Accuracy => (double)Enumerable.Range(0, Counts.Count).Sum(i => Counts[i][i]) / Math.Max(1, Total);
}

/// <summary>What a linear evaluation measured.</summary>
/// <param name="TestAccuracy">Null when the test split was not read (<see cref="LinearEvalOptions.Test"/> false).</param>
public sealed record LinearEvalResult(string Mode, string Protocol, int Epochs, double? TestAccuracy, IReadOnlyList<double> ValAccuracy,
    IReadOnlyList<double> TrainLoss, int TrainImages, int? TestImages, double Seconds)
{
    /// <summary>The data set's name; set by <see cref="LinearEval.Run(TorchSharp.torch.nn.Module{TorchSharp.torch.Tensor, TorchSharp.torch.Tensor}, int, Data.DataModule, TorchSharp.torch.Device)"/>, empty for features encoded elsewhere.</summary>
    public string Dataset { get; init; } = "";

    /// <summary>
    /// Weighted k-NN (k 200, temperature 0.1, <see cref="Knn"/>) on the same features, against the
    /// training split's: on the test split, or on the validation split when the test split was not
    /// read. Set by the cached protocols, which hold the training split's features; null otherwise.
    /// </summary>
    public double? KnnAccuracy { get; init; }

    /// <summary>The final linear layer's predictions against the labels, on the test split (or the validation split when the test split was not read).</summary>
    public ConfusionMatrix? Confusion { get; init; }

    /// <summary>The classes' names in label order, when the data set names them.</summary>
    public IReadOnlyList<string>? Classes { get; init; }

    /// <summary>The line a user reads: top-1 test accuracy, or validation accuracy when the test split was not read.</summary>
    public string Summary()
    {
        var knn = KnnAccuracy is { } k ? string.Create(CultureInfo.InvariantCulture, $"; k-NN {100 * k:F2}%") : "";
        return TestAccuracy is { } test
            ? string.Create(CultureInfo.InvariantCulture, $"linear evaluation ({Mode} features) on {Dataset}: top-1 test accuracy {100 * test:F2}% ({TestImages} test images; best val {100 * ValAccuracy.Max():F2}%{knn}; {Seconds:F0} s)")
            : string.Create(CultureInfo.InvariantCulture, $"linear evaluation ({Mode} features) on {Dataset}: top-1 val accuracy {100 * ValAccuracy[^1]:F2}% after the last epoch (best {100 * ValAccuracy.Max():F2}%{knn}; test split not read; {Seconds:F0} s)");
    }

    /// <summary>
    /// Writes the result with what produced it (the checkpoint, the data set and every setting of the
    /// protocol) as JSON, atomically. An existing file is refused unless <paramref name="replace"/> (a
    /// run's own result after it trained again); a half-written one never exists.
    /// </summary>
    public void Save(string path, string checkpoint, LinearEvalOptions options, bool replace = false)
    {
        if (!replace && File.Exists(path)) throw new ArgumentException($"{path} already exists; a result is never replaced");
        var json = JsonSerializer.SerializeToUtf8Bytes(new { checkpoint, dataset = Dataset, options, result = this }, new JsonSerializerOptions
        {
            WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        });
        AtomicFile.Write(path, s => s.Write(json));
    }
}

using Aavae.Configuration;

namespace Aavae.Evaluation;

/// <summary>The k-NN evaluation's settings: solo-learn's WeightedKNNClassifier defaults (k 200, temperature 0.1).</summary>
public sealed record KnnOptions
{
    public const int DefaultK = 200;
    public const double DefaultTemperature = 0.1;

    [Setting("neighbours that vote", Flag = "--k", Min = 1)]
    public int K { get; init; } = DefaultK;
    [Setting("votes are weighted by exp(cosine similarity / temperature)", Min = 0, MinExclusive = true)]
    public double Temperature { get; init; } = DefaultTemperature;
    [Setting("images per batch", Min = 1)]
    public int BatchSize { get; init; } = 256;
    [Setting("encode at most N batches of each split", Min = 1)]
    public int? LimitBatches { get; init; }

    public void Validate() => Settings.Check(this);
}

/// <summary>What a k-NN evaluation measured.</summary>
public sealed record KnnResult(string Dataset, int K, double Temperature, double TestAccuracy, int TrainImages, int TestImages)
{
    /// <summary>Writes the result as JSON (snake_case), whole or not at all.</summary>
    public void Save(string path) =>
        Aavae.Embedding.AtomicFile.Write(path, s => System.Text.Json.JsonSerializer.Serialize(s, this,
            new System.Text.Json.JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower }));

    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"k-NN (k={K}, T={Temperature}) on {Dataset}: top-1 test accuracy {100 * TestAccuracy:F2}% ({TrainImages} training / {TestImages} test images)");
}

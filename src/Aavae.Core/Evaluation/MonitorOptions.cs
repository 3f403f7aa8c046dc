using Aavae.Configuration;

namespace Aavae.Evaluation;

/// <summary>What scores the encoder while it trains (the reference's online_ft, and this project's k-NN and linear-probe curves).</summary>
public sealed record MonitorOptions
{
    /// <summary>Train a linear probe on detached features during pre-training (the reference's online_ft).</summary>
    [Setting("train a linear probe on detached features during pre-training")]
    public bool OnlineFt { get; init; }

    [Setting("run the k-NN monitor every N epochs and after the last (0: off)", Min = 0)]
    public int KnnEvery { get; init; } = 10;

    [Setting("neighbours that vote in the k-NN monitor", Min = 1)]
    public int KnnK { get; init; } = KnnOptions.DefaultK;

    [Setting("the k-NN monitor's votes are weighted by exp(cosine similarity / temperature)", Min = 0, MinExclusive = true)]
    public double KnnTemperature { get; init; } = KnnOptions.DefaultTemperature;

    /// <summary>Cached features, 90 epochs, validation split only: the curve of a long run, accuracy against epoch.</summary>
    [Setting("fit a linear probe on cached frozen features every N epochs and after the last, scored on the validation split (0: off)", Min = 0)]
    public int LinearProbeEvery { get; init; }
}

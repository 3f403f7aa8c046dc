using Aavae.Configuration;

namespace Aavae.Inference;

/// <summary>How <c>aavae embed</c> encodes a data split: which split, in what batches, how many.</summary>
public sealed record EmbedOptions
{
    [Setting("train, val or test (the linear-evaluation splits)")]
    public string Split { get; init; } = "test";
    [Setting("images per batch")]
    public int BatchSize { get; init; } = 256;
    [Setting("encode at most N batches of the split")]
    public int? LimitBatches { get; init; }

    public void Validate()
    {
        OptionException.Check(BatchSize >= 1, nameof(BatchSize), $"must be >= 1, got {BatchSize}");
        OptionException.Check(LimitBatches is null or >= 1, nameof(LimitBatches), $"must be >= 1, got {LimitBatches}");
    }
}

using Aavae.Configuration;

namespace Aavae.Inference;

/// <summary>How <c>aavae embed</c> encodes a data split: which split, in what batches, how many.</summary>
public sealed record EmbedOptions
{
    [Setting("train, val or test (the linear-evaluation splits)")]
    public string Split { get; init; } = "test";
    [Setting("images per batch", Min = 1)]
    public int BatchSize { get; init; } = 256;
    [Setting("encode at most N batches of the split", Min = 1)]
    public int? LimitBatches { get; init; }

    public void Validate() => Settings.Check(this);
}

using System.Text.Json.Serialization;
using Aavae.Configuration;

namespace Aavae.Data;

/// <summary>What a run trains on and in what batches (LightningCLI's <c>data</c> group).</summary>
public sealed record DataOptions
{
    [Setting("fashion-mnist (shipped), cifar10, stl10 or imagenet")]
    [JsonConverter(typeof(DatasetNameJsonConverter))]
    public DatasetInfo Dataset { get; init; } = DatasetInfo.FashionMnist;

    /// <summary>Null: the shipped Fashion-MNIST.</summary>
    [Setting("folder holding the data set (default: the shipped Fashion-MNIST)", Aliases = ["--data_path"])]
    public string? DataDir { get; init; }

    [Setting("images per optimizer step, over all devices", Min = 1)]
    public int BatchSize { get; init; } = 256;
}

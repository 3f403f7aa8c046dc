using System.Text.Json.Serialization;
using Aavae.Configuration;

namespace Aavae.Data;

/// <summary>What a run trains on and in what batches (LightningCLI's <c>data</c> group).</summary>
public sealed record DataOptions
{
    [Setting("fashion-mnist (shipped), cifar10, stl10, imagenet, or folder: every picture under --data-dir")]
    [JsonConverter(typeof(DatasetNameJsonConverter))]
    public DatasetInfo Dataset { get; init; } = DatasetInfo.FashionMnist;

    /// <summary>Null: the shipped Fashion-MNIST.</summary>
    [Setting("folder holding the data set (default: the shipped Fashion-MNIST)", Aliases = ["--data_path"])]
    public string? DataDir { get; init; }

    [Setting("images per optimizer step, over all devices", Min = 1)]
    public int BatchSize { get; init; } = 256;

    /// <summary>A picture folder's pictures named in a file instead of found under it (<see cref="PictureFolder.List"/>).</summary>
    [Setting("--dataset folder: train on the pictures this file lists, a path a line (relative to --data-dir), instead of every picture under --data-dir")]
    public string? Files { get; init; }

    /// <summary>Null: <see cref="PictureCache.DefaultRoot"/>.</summary>
    [Setting("--dataset folder: where the decoded pictures are cached, outside --data-dir (default: $XDG_CACHE_HOME/aavae/pictures, else ~/.cache/aavae/pictures)")]
    public string? CacheDir { get; init; }

    /// <summary>
    /// A picture folder's pictures are cached with their short side at this many times the input size, so that
    /// RandomResizedCrop cuts its crops from the picture, not from a thumbnail; 0 keeps them as decoded.
    /// </summary>
    [Setting("--dataset folder: cache each picture with its short side at N times --input-size (0: at full size); views are cut from that", Min = 0, Max = 64)]
    public int CacheScale { get; init; } = 2;

    /// <summary>The short side a picture folder is cached at for <paramref name="inputSize"/>.</summary>
    public int CacheShortSide(int inputSize) => CacheScale == 0 ? int.MaxValue : CacheScale * inputSize;

    /// <summary>A picture folder's own mean and standard deviation, measured when its first run starts and kept for every later command; null for the named data sets.</summary>
    public Normalization? Normalization { get; init; }
}

using System.Text.Json;
using System.Text.Json.Serialization;
using Aavae.Models;

namespace Aavae.Data;

/// <summary>Per-channel mean and standard deviation used to normalise [0, 1] pixels.</summary>
public sealed record Normalization(float[] Mean, float[] Std)
{
    public bool Equals(Normalization? other) => other is not null && Mean.SequenceEqual(other.Mean) && Std.SequenceEqual(other.Std);

    public override int GetHashCode() => HashCode.Combine(Mean.Length > 0 ? Mean[0] : 0, Std.Length > 0 ? Std[0] : 0);
}

/// <summary>How the linear-evaluation training view crops (the reference's LinearEvalTrainTransform).</summary>
public enum LinearEvalCrop
{
    /// <summary>RandomCrop(size, padding 4, reflect) and a flip: CIFAR-10's, for 32-pixel images.</summary>
    PaddedRandomCrop,
    /// <summary>RandomResizedCrop(size) and a flip: STL-10's and ImageNet's.</summary>
    RandomResizedCrop,
}

/// <summary>
/// What the pipeline needs to know about a data set: image size, stem, normalisation, the strength
/// of the SimCLR view (the reference's vae.py: jitter 0.5 without blur for CIFAR-10, 1.0 with blur
/// otherwise), how its evaluation view and linear-evaluation crops are made.
/// </summary>
/// <param name="EvalResize">The evaluation (and "original") view resizes the short side to
/// InputHeight x this and centre-crops InputHeight: 1.1 for STL-10 (Resize(105) + CenterCrop(96));
/// null where images are stored at their size (32-pixel arrays; image folders decode their centre view).</param>
/// <param name="LinearEvalUnshuffled">The reference's linear evaluation trains on the evaluation view in a fixed
/// order (STL-10: linear_eval.py's train_dataloader_labeled), not on shuffled augmented views.</param>
/// <param name="Grey">Grey pictures (Fashion-MNIST), replicated to three channels: a colour picture from a user is turned grey first.</param>
public sealed record DatasetInfo(
    string Name, int InputHeight, Stem Stem, int NumClasses, Normalization Normalization,
    double JitterStrength, bool GaussianBlur, double? EvalResize = null, LinearEvalCrop LinearEvalCrop = LinearEvalCrop.RandomResizedCrop,
    bool LinearEvalUnshuffled = false, bool Grey = false)
{
    public static readonly DatasetInfo FashionMnist = new(
        "fashion-mnist", 32, Stem.Cifar, 10,
        // Mean and std of the 60,000 training images (published values; a test recomputes them).
        new([0.2860f, 0.2860f, 0.2860f], [0.3530f, 0.3530f, 0.3530f]), 0.5, false, LinearEvalCrop: LinearEvalCrop.PaddedRandomCrop, Grey: true)
    {
        ClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
    };

    public static readonly DatasetInfo Cifar10 = new(
        "cifar10", 32, Stem.Cifar, 10,
        new([125.3f / 255, 123.0f / 255, 113.9f / 255], [63.0f / 255, 62.1f / 255, 66.7f / 255]), 0.5, false, LinearEvalCrop: LinearEvalCrop.PaddedRandomCrop)
    {
        ClassNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
    };

    public static readonly DatasetInfo Stl10 = new(
        "stl10", 96, Stem.Stl10, 10, new([0.43f, 0.42f, 0.39f], [0.27f, 0.26f, 0.27f]), 1.0, true, EvalResize: 1.1, LinearEvalUnshuffled: true)
    {
        ClassNames = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"],
    };

    /// <summary>The classes' names in label order, as the data set publishes them (a labelled folder: its class folders); null: numbers only.</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    public static readonly DatasetInfo ImageNet = new(
        "imagenet", 224, Stem.ImageNet, 1000, new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]), 1.0, true);

    /// <summary>
    /// A folder of a user's own pictures (<see cref="PictureFolder"/>): unlabelled, 64 pixels with the
    /// STL-10 stem unless the input size says otherwise (<see cref="StemFor"/>), SimCLR's full-strength
    /// view, torchvision's Resize(size x 256/224) + CenterCrop evaluation view. Its normalisation is the
    /// folder's own, measured when a run starts (<see cref="ForFolder"/>); ImageNet's stands in until then.
    /// </summary>
    public static readonly DatasetInfo Folder = new(
        "folder", 64, Stem.Stl10, 0, ImageNet.Normalization, 1.0, true, EvalResize: 256.0 / 224.0);

    public static IReadOnlyList<DatasetInfo> All { get; } = [FashionMnist, Cifar10, Stl10, ImageNet, Folder];

    public bool IsFolder => Name == Folder.Name;

    /// <summary>A picture folder at <paramref name="size"/> pixels with <paramref name="stem"/>, normalised by its own statistics.</summary>
    public static DatasetInfo ForFolder(int size, Stem stem, Normalization normalization) =>
        Folder with { InputHeight = size, Stem = stem, Normalization = normalization };

    /// <summary>The stem a picture folder takes at an input size: the CIFAR stem up to 48 pixels, STL-10's up to 128, ImageNet's above.</summary>
    public static Stem StemFor(int size) => size <= 48 ? Stem.Cifar : size <= 128 ? Stem.Stl10 : Stem.ImageNet;

    /// <summary>What a user's picture's short side is resized to before the centre crop to <see cref="InputHeight"/>: as the data
    /// set's own views do it, Resize((int)(96 x 1.1) = 105) for STL-10, 256/224 of the crop for ImageNet folders.</summary>
    public int EvalShortSide => EvalResize is double resize ? (int)(InputHeight * resize)
        : Stem == Stem.ImageNet ? (int)Math.Round(InputHeight * 256.0 / 224.0) : InputHeight;

    /// <summary>Its name, as settings and hyper-parameters spell it.</summary>
    public override string ToString() => Name;

    /// <summary>A setting's text (<see cref="Configuration.SettingValues"/>): the same as <see cref="Get"/>.</summary>
    public static DatasetInfo Parse(string name) => Get(name);

    public static DatasetInfo Get(string name) =>
        All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase)
                                || string.Equals(d.Name.Replace("-", ""), name.Replace("-", "").Replace("_", ""), StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown dataset '{name}': expected one of {string.Join(", ", All.Select(d => d.Name))}");
}

/// <summary>A data set in a run's JSON configuration: its name, as the reference's hyper-parameters write it.</summary>
public sealed class DatasetNameJsonConverter : JsonConverter<DatasetInfo>
{
    public override DatasetInfo Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DatasetInfo.Get(reader.GetString() ?? throw new JsonException("a data set name was expected"));

    public override void Write(Utf8JsonWriter writer, DatasetInfo value, JsonSerializerOptions options) => writer.WriteStringValue(value.Name);
}

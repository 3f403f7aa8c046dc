using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Data;

/// <summary>
/// Fashion-MNIST, the project's default data set, shipped in <c>data/fashion-mnist</c> as the
/// four official gzipped IDX files. Images are 28x28 grey; they are zero-padded to 32x32 so the
/// CIFAR-sized networks apply unchanged (the view pipeline replicates the channel to RGB).
/// </summary>
public static class FashionMnist
{
    public const int TrainCount = 60_000;
    public const int TestCount = 10_000;
    public const int ValCount = 5_000;
    /// <summary>The pictures' side as published, and the zero border that makes them 32 x 32.</summary>
    public const int ImageSide = 28, Padding = 2;

    /// <summary>SHA-256 of the unpacked bytes of the official files.</summary>
    public static readonly IReadOnlyDictionary<string, string> Sha256 = new Dictionary<string, string>
    {
        ["train-images-idx3-ubyte"] = "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        ["train-labels-idx1-ubyte"] = "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        ["t10k-images-idx3-ubyte"] = "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        ["t10k-labels-idx1-ubyte"] = "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    };

    /// <summary>The copy shipped next to the program (see Aavae.Core.csproj).</summary>
    public static string ShippedDirectory => Path.Combine(AppContext.BaseDirectory, "data", "fashion-mnist");

    /// <param name="verify">Compare against the official checksums; off for test files made by the tests.</param>
    public static TensorImageSource Load(string directory, bool train, bool verify = true)
    {
        string prefix = train ? "train" : "t10k";
        var images = ReadPart(directory, $"{prefix}-images-idx3-ubyte", 3, verify);
        var labels = ReadPart(directory, $"{prefix}-labels-idx1-ubyte", 1, verify);
        int n = images.Shape[0];
        if (labels.Shape[0] != n)
            throw new InvalidDataException($"{directory}: {n} {prefix} images but {labels.Shape[0]} labels");
        if (images.Shape[1] != ImageSide || images.Shape[2] != ImageSide)
            throw new InvalidDataException($"{directory}/{prefix}-images-idx3-ubyte: images are {images.Shape[1]}x{images.Shape[2]}, expected {ImageSide}x{ImageSide}");
        int bad = Array.FindIndex(labels.Data, l => l > 9);
        if (bad >= 0)
            throw new InvalidDataException($"{directory}/{prefix}-labels-idx1-ubyte: label {labels.Data[bad]} at index {bad} is out of range 0-9");

        using var scope = NewDisposeScope();
        var pixels = tensor(images.Data, [n, 1, ImageSide, ImageSide], ScalarType.Byte);
        var padded = nn.functional.pad(pixels, [Padding, Padding, Padding, Padding]);
        var y = tensor(labels.Data, [n], ScalarType.Byte).to_type(ScalarType.Int64);
        return new TensorImageSource(train ? "fashion-mnist/train" : "fashion-mnist/test", padded, y, 10);
    }

    private static IdxFile.Content ReadPart(string directory, string stem, int dims, bool verify)
    {
        var gz = Path.Combine(directory, stem + ".gz");
        var raw = Path.Combine(directory, stem);
        var path = File.Exists(gz) ? gz : File.Exists(raw) ? raw
            : throw new FileNotFoundException($"{gz}: file not found (Fashion-MNIST needs {stem}.gz or {stem} in {directory})", gz);
        var content = IdxFile.Read(path, dims);
        if (verify && content.Sha256 != Sha256[stem])
            throw new InvalidDataException($"{path}: checksum mismatch: unpacked SHA-256 is {content.Sha256}, expected {Sha256[stem]}");
        return content;
    }
}

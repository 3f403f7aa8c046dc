using Aavae.Runtime;
using StbImageSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Data;

/// <summary>
/// An ImageNet-style folder: one sub-folder per class (sorted names give the label), PNG or JPEG
/// files inside. Images are decoded on demand and brought to a fixed square size as the
/// reference's evaluation transform does: resize the short side to size * 256/224, centre-crop.
/// </summary>
public sealed class ImageFolderSource : IImageSource
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg"];
    private readonly (string Path, int Label)[] files;

    public ImageFolderSource(string root, int size)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{root}: image folder not found");
        Classes = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        if (Classes.Count == 0) throw new InvalidDataException($"{root}: no class sub-folders (expected one folder of images per class)");
        files = Classes.SelectMany((c, label) => Directory.EnumerateFiles(Path.Combine(root, c))
                .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                .Order(StringComparer.Ordinal)
                .Select(f => (f, label)))
            .ToArray();
        if (files.Length == 0) throw new InvalidDataException($"{root}: no .png, .jpg or .jpeg images in its {Classes.Count} class folders");
        Name = Path.GetFileName(Path.TrimEndingDirectorySeparator(root));
        Height = Width = size;
    }

    public IReadOnlyList<string> Classes { get; }
    public string Name { get; }
    public int Count => files.Length;
    public int Channels => 3;
    public int Height { get; }
    public int Width { get; }
    public int NumClasses => Classes.Count;

    public int LabelOf(int index) => files[index].Label;

    public (Tensor Images, Tensor Labels) GetBatch(ReadOnlySpan<long> indices)
    {
        using var scope = NewDisposeScope();
        var images = new List<Tensor>(indices.Length);
        var labels = new long[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            var (path, label) = files[indices[i]];
            images.Add(Decode(path));
            labels[i] = label;
        }
        return (stack(images).MoveToOuterDisposeScope(), tensor(labels).MoveToOuterDisposeScope());
    }

    private Tensor Decode(string path)
    {
        ImageResult image;
        try
        {
            image = ImageResult.FromMemory(File.ReadAllBytes(path), ColorComponents.RedGreenBlue);
        }
        catch (Exception e) when (e is not IOException)
        {
            throw new InvalidDataException($"{path}: not a readable PNG or JPEG image ({e.Message})", e);
        }
        var hwc = tensor(image.Data, [image.Height, image.Width, 3], ScalarType.Byte);
        var chw = hwc.permute(2, 0, 1).unsqueeze(0).to_type(ScalarType.Float32);
        double shortSide = Math.Round(Height * 256.0 / 224.0);
        double scale = shortSide / Math.Min(image.Height, image.Width);
        long h = Math.Max(Height, (long)Math.Round(image.Height * scale));
        long w = Math.Max(Width, (long)Math.Round(image.Width * scale));
        var resized = nn.functional.interpolate(chw, size: [h, w], mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);
        long top = (h - Height) / 2, left = (w - Width) / 2;
        return resized[0, .., (int)top..(int)(top + Height), (int)left..(int)(left + Width)]
            .round().clamp(Scalars.Zero, Scalars.MaxPixel).to_type(ScalarType.Byte);
    }
}

using Aavae.Runtime;
using StbImageSharp;
using TorchSharp;
using static TorchSharp.torch;
using Aavae.Embedding;

namespace Aavae.Data;

/// <summary>
/// An ImageNet-style folder: one sub-folder per class (sorted names give the label), PNG or JPEG
/// files inside. Images are decoded on demand; batches are the reference's evaluation view (resize
/// the short side to size * 256/224, centre-crop size: Resize(256) + CenterCrop(224) for ImageNet),
/// and training crops are cut from the full decoded image (<see cref="IFullImageSource"/>).
/// </summary>
public sealed class ImageFolderSource : IImageSource, IFullImageSource
{
    /// <summary>Whether the file is a picture an image folder reads (PNG or JPEG, by extension).</summary>
    public static bool IsPicture(string path) => PictureFile.IsPicture(path);

    private readonly (string Path, int Label)[] files;

    public ImageFolderSource(string root, int size)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{root}: image folder not found");
        Classes = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        if (Classes.Count == 0) throw new InvalidDataException($"{root}: no class sub-folders (expected one folder of images per class)");
        // torchvision's ImageFolder order: sorted classes; within a class, os.walk's folders sorted by path, files sorted by name.
        files = Classes.SelectMany((c, label) => Directory.EnumerateFiles(Path.Combine(root, c), "*", SearchOption.AllDirectories)
                .Where(IsPicture)
                .OrderBy(f => Path.GetDirectoryName(f), StringComparer.Ordinal)
                .ThenBy(Path.GetFileName, StringComparer.Ordinal)
                .Select(f => (f, label)))
            .ToArray();
        if (files.Length == 0) throw new InvalidDataException($"{root}: no .png, .jpg or .jpeg images in its {Classes.Count} class folders");
        Name = Path.GetFileName(Path.TrimEndingDirectorySeparator(root));
        Height = Width = size;
        sizes = new (int, int)[files.Length];
    }

    // Read from the file headers on first use; an entry is written whole or not at all.
    private readonly (int Height, int Width)[] sizes;

    public IReadOnlyList<string> Classes { get; }
    public string Name { get; }
    public int Count => files.Length;
    public int Channels => 3;
    public int Height { get; }
    public int Width { get; }
    public int NumClasses => Classes.Count;

    public int LabelOf(int index) => files[index].Label;

    public string PathOf(int index) => files[index].Path;

    public (Tensor Images, Tensor Labels) GetBatch(ReadOnlySpan<long> indices)
    {
        using var scope = NewDisposeScope();
        var images = new List<Tensor>(indices.Length);
        var labels = new long[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            var (path, label) = files[indices[i]];
            images.Add(ToBytes(CenterView(DecodeFull(path))));
            labels[i] = label;
        }
        return (stack(images).MoveToOuterDisposeScope(), tensor(labels).MoveToOuterDisposeScope());
    }

    public (int Height, int Width) SizeOf(long index)
    {
        var known = sizes[index];
        if (known.Height > 0) return known;
        var (width, height) = PictureFile.ReadSize(files[index].Path);
        return sizes[index] = (height, width);
    }

    public (Tensor Images, Tensor Crops, Tensor Labels) GetBatchWithCrops(ReadOnlySpan<long> indices, IReadOnlyList<CropBox> boxes, bool[] flips, int size)
    {
        using var scope = NewDisposeScope();
        var images = new List<Tensor>(indices.Length);
        var crops = new List<Tensor>(indices.Length);
        var labels = new long[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            var (path, label) = files[indices[i]];
            var full = DecodeFull(path);
            var box = boxes[i];
            // The boxes were drawn on the header's size: a picture that decodes to another size is damaged, not a caller's mistake.
            if (SizeOf(indices[i]) is var (headerHeight, headerWidth) && (headerHeight, headerWidth) != (full.shape[2], full.shape[3]))
                throw new InvalidDataException($"{path}: its header says {headerWidth} x {headerHeight} pixels but it decodes to {full.shape[3]} x {full.shape[2]}");
            if (box.Top < 0 || box.Left < 0 || box.Top + box.Height > full.shape[2] || box.Left + box.Width > full.shape[3] || box.Height < 1 || box.Width < 1)
                throw new ArgumentException($"{path}: crop box {box} does not fit the {full.shape[2]}x{full.shape[3]} image");
            var crop = full[.., .., box.Top..(box.Top + box.Height), box.Left..(box.Left + box.Width)];
            crop = nn.functional.interpolate(crop, size: [size, size], mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);
            if (flips[i]) crop = crop.flip(3);
            images.Add(ToBytes(CenterView(full)));
            crops.Add(ToBytes(crop[0]));
            labels[i] = label;
        }
        return (stack(images).MoveToOuterDisposeScope(), stack(crops).MoveToOuterDisposeScope(), tensor(labels).MoveToOuterDisposeScope());
    }

    /// <summary>The picture as float [1, 3, H, W] in 0..255.</summary>
    private Tensor DecodeFull(string path)
    {
        var (width, height, rgb) = PictureFile.DecodeRgb(path);
        var hwc = tensor(rgb, [height, width, 3], ScalarType.Byte);
        return hwc.permute(2, 0, 1).unsqueeze(0).to_type(ScalarType.Float32);
    }

    /// <summary>The evaluation view: short side resized to size * 256/224, centre crop size x size; [3, size, size].</summary>
    private Tensor CenterView(Tensor chw)
    {
        long imageHeight = chw.shape[2], imageWidth = chw.shape[3];
        double shortSide = Math.Round(Height * 256.0 / 224.0);
        double scale = shortSide / Math.Min(imageHeight, imageWidth);
        long h = Math.Max(Height, (long)Math.Round(imageHeight * scale));
        long w = Math.Max(Width, (long)Math.Round(imageWidth * scale));
        var resized = nn.functional.interpolate(chw, size: [h, w], mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);
        long top = (h - Height) / 2, left = (w - Width) / 2;
        return resized[0, .., (int)top..(int)(top + Height), (int)left..(int)(left + Width)];
    }

    private static Tensor ToBytes(Tensor x) => x.round().clamp(Scalars.Zero, Scalars.MaxPixel).to_type(ScalarType.Byte);
}

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
public sealed class ImageFolderSource : FullPictureSource
{
    /// <summary>Whether the file is a picture an image folder reads (by extension).</summary>
    public static bool IsPicture(string path) => PictureFile.IsPicture(path);

    private readonly (string Path, int Label)[] files;
    // Read from the file headers on first use; an entry is written whole or not at all.
    private readonly (int Height, int Width)[] sizes;

    public ImageFolderSource(string root, int size) : base(Path.GetFileName(Path.TrimEndingDirectorySeparator(root)), size, 256.0 / 224.0)
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
        if (files.Length == 0) throw new InvalidDataException($"{root}: no pictures in its {Classes.Count} class folders");
        sizes = new (int, int)[files.Length];
    }

    public IReadOnlyList<string> Classes { get; }
    public override int Count => files.Length;
    public override int NumClasses => Classes.Count;

    public override int LabelOf(long index) => files[index].Label;

    public string PathOf(int index) => files[index].Path;

    public override (int Height, int Width) SizeOf(long index)
    {
        var known = sizes[index];
        if (known.Height > 0) return known;
        var (width, height) = PictureFile.ReadSize(files[index].Path);
        return sizes[index] = (height, width);
    }

    protected override Tensor LoadFull(long index)
    {
        var path = files[index].Path;
        var (width, height, rgb) = PictureFile.DecodeRgb(path);
        // Crop boxes are drawn on the header's size: a picture that decodes to another size is damaged, not a caller's mistake.
        if (SizeOf(index) is var (headerHeight, headerWidth) && (headerHeight, headerWidth) != (height, width))
            throw new InvalidDataException($"{path}: its header says {headerWidth} x {headerHeight} pixels but it decodes to {width} x {height}");
        return FromRgb(rgb, height, width);
    }
}

using static TorchSharp.torch;

namespace Aavae.Data;

/// <summary>Some pictures of a folder, read from its <see cref="PictureCache"/>, with their classes when the folder has them (else label -1).</summary>
public sealed class PictureFolderSource(string name, PictureCache cache, IReadOnlyList<string> paths, int size, double evalResize,
    IReadOnlyDictionary<string, int>? labels = null, int numClasses = 0) : FullPictureSource(name, size, evalResize)
{
    public IReadOnlyList<string> Paths { get; } = paths;
    public override int Count => Paths.Count;
    public override int NumClasses => numClasses;

    public override int LabelOf(long index) => labels is null ? -1 : labels[Paths[(int)index]];

    public override (int Height, int Width) SizeOf(long index) => cache.SizeOf(Paths[(int)index]);

    protected override Tensor LoadFull(long index)
    {
        var (height, width) = SizeOf(index);
        return FromRgb(cache.Read(Paths[(int)index]), height, width);
    }
}

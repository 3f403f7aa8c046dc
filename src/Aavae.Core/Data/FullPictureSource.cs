using Aavae.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Data;

/// <summary>
/// A source of pictures of any size, held as they are (files of an image folder, or a picture
/// folder's decoded cache): batches are the evaluation view (short side resized to size x
/// <see cref="EvalResize"/>, centre crop), and training crops are cut from the whole picture, as
/// torchvision's RandomResizedCrop cuts them (<see cref="IFullImageSource"/>).
/// </summary>
public abstract class FullPictureSource(string name, int size, double evalResize) : IImageSource, IFullImageSource
{
    public string Name { get; } = name;
    public abstract int Count { get; }
    public int Channels => 3;
    public int Height { get; } = size;
    public int Width { get; } = size;
    public abstract int NumClasses { get; }

    /// <summary>The evaluation view's short side over its crop: 256/224 for ImageNet's Resize(256) + CenterCrop(224).</summary>
    public double EvalResize { get; } = evalResize;

    /// <summary>The picture's label; -1 when it has none.</summary>
    public abstract int LabelOf(long index);

    public abstract (int Height, int Width) SizeOf(long index);

    /// <summary>The whole picture as float [1, 3, H, W] in 0..255.</summary>
    protected abstract Tensor LoadFull(long index);

    public (Tensor Images, Tensor Labels) GetBatch(ReadOnlySpan<long> indices)
    {
        using var scope = NewDisposeScope();
        var images = new List<Tensor>(indices.Length);
        var labels = new long[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            images.Add(ToBytes(CenterView(LoadFull(indices[i]))));
            labels[i] = LabelOf(indices[i]);
        }
        return (stack(images).MoveToOuterDisposeScope(), tensor(labels).MoveToOuterDisposeScope());
    }

    public (Tensor Images, Tensor Crops, Tensor Labels) GetBatchWithCrops(ReadOnlySpan<long> indices, IReadOnlyList<CropBox> boxes, bool[] flips, int size)
    {
        using var scope = NewDisposeScope();
        var images = new List<Tensor>(indices.Length);
        var crops = new List<Tensor>(indices.Length);
        var labels = new long[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            var full = LoadFull(indices[i]);
            var box = boxes[i];
            if (box.Top < 0 || box.Left < 0 || box.Top + box.Height > full.shape[2] || box.Left + box.Width > full.shape[3] || box.Height < 1 || box.Width < 1)
                throw new ArgumentException($"{Name}: crop box {box} does not fit the {full.shape[2]}x{full.shape[3]} picture {indices[i]}");
            var crop = full[.., .., box.Top..(box.Top + box.Height), box.Left..(box.Left + box.Width)];
            crop = nn.functional.interpolate(crop, size: [size, size], mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);
            if (flips[i]) crop = crop.flip(3);
            images.Add(ToBytes(CenterView(full)));
            crops.Add(ToBytes(crop[0]));
            labels[i] = LabelOf(indices[i]);
        }
        return (stack(images).MoveToOuterDisposeScope(), stack(crops).MoveToOuterDisposeScope(), tensor(labels).MoveToOuterDisposeScope());
    }

    /// <summary>The evaluation view: short side resized to size x <see cref="EvalResize"/>, centre crop size x size; [3, size, size].</summary>
    private Tensor CenterView(Tensor chw)
    {
        long imageHeight = chw.shape[2], imageWidth = chw.shape[3];
        double shortSide = Math.Round(Height * EvalResize);
        double scale = shortSide / Math.Min(imageHeight, imageWidth);
        long h = Math.Max(Height, (long)Math.Round(imageHeight * scale));
        long w = Math.Max(Width, (long)Math.Round(imageWidth * scale));
        var resized = nn.functional.interpolate(chw, size: [h, w], mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);
        long top = (h - Height) / 2, left = (w - Width) / 2;
        return resized[0, .., (int)top..(int)(top + Height), (int)left..(int)(left + Width)];
    }

    /// <summary>Resize [B, C, H, W] so its short side is <paramref name="side"/> (bilinear, antialiased, as PIL resizes), keeping the aspect.</summary>
    public static Tensor ResizeShortSide(Tensor x, int side)
    {
        long h = x.shape[2], w = x.shape[3];
        double scale = (double)side / Math.Min(h, w);
        long nh = (long)Math.Round(h * scale), nw = (long)Math.Round(w * scale);
        return nn.functional.interpolate(x, size: [nh, nw], mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);
    }

    /// <summary>RGB bytes [H, W, 3] as float [1, 3, H, W] in 0..255.</summary>
    internal static Tensor FromRgb(byte[] rgb, int height, int width) =>
        tensor(rgb, [height, width, 3], ScalarType.Byte).permute(2, 0, 1).unsqueeze(0).to_type(ScalarType.Float32);

    /// <summary>Float pixels in 0..255 as bytes, rounded and clamped.</summary>
    internal static Tensor ToBytes(Tensor x) => x.round().clamp(Scalars.Zero, Scalars.MaxPixel).to_type(ScalarType.Byte);
}

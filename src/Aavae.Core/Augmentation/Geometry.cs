using Aavae.Data;
using Aavae.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Augmentation;

/// <summary>Crops, resizes and flips on batches, each image with its own parameters.</summary>
public static class Geometry
{
    /// <summary>
    /// torchvision's RandomResizedCrop.get_params: up to ten tries for a box with area fraction in
    /// <paramref name="scale"/> and aspect ratio (log-uniform) in <paramref name="ratio"/>; else a
    /// centre crop clamped to the ratio range.
    /// </summary>
    public static CropBox SampleResizedCrop(Random rng, int height, int width,
        (double Min, double Max) scale, (double Min, double Max) ratio)
    {
        double area = height * width;
        double logMin = Math.Log(ratio.Min), logMax = Math.Log(ratio.Max);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * (scale.Min + rng.NextDouble() * (scale.Max - scale.Min));
            double aspect = Math.Exp(logMin + rng.NextDouble() * (logMax - logMin));
            int w = (int)Math.Round(Math.Sqrt(target * aspect));
            int h = (int)Math.Round(Math.Sqrt(target / aspect));
            if (w > 0 && w <= width && h > 0 && h <= height)
                return new CropBox(rng.Next(height - h + 1), rng.Next(width - w + 1), h, w);
        }
        double inRatio = (double)width / height;
        int cw = width, ch = height;
        if (inRatio < ratio.Min) ch = (int)Math.Round(cw / ratio.Min);
        else if (inRatio > ratio.Max) cw = (int)Math.Round(ch * ratio.Max);
        return new CropBox((height - ch) / 2, (width - cw) / 2, ch, cw);
    }

    /// <summary>
    /// Crops each image to its box, optionally mirrors it, and resizes to size x size with bilinear
    /// interpolation (half-pixel centres, as F.interpolate with align_corners=False), in one
    /// affine_grid + grid_sample.
    /// </summary>
    public static Tensor ResizedCrop(Tensor x, IReadOnlyList<CropBox> boxes, bool[] flips, int size)
    {
        long b = x.shape[0];
        double h = x.shape[2], w = x.shape[3];
        var theta = new float[b * 6];
        for (int i = 0; i < b; i++)
        {
            var box = boxes[i];
            double sx = box.Width / w, sy = box.Height / h;
            theta[i * 6 + 0] = (float)(flips[i] ? -sx : sx);
            theta[i * 6 + 2] = (float)((2.0 * box.Left + box.Width) / w - 1);
            theta[i * 6 + 4] = (float)sy;
            theta[i * 6 + 5] = (float)((2.0 * box.Top + box.Height) / h - 1);
        }
        var t = tensor(theta, [b, 2, 3], dtype: x.dtype, device: x.device);
        var grid = nn.functional.affine_grid(t, [b, x.shape[1], size, size], align_corners: false);
        return nn.functional.grid_sample(x, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Border, align_corners: false);
    }

    /// <summary>Mirrors the images whose flag is set.</summary>
    public static Tensor HorizontalFlip(Tensor x, bool[] flips)
    {
        var mask = tensor(flips, device: x.device).view(-1, 1, 1, 1);
        return where(mask, x.flip(3), x);
    }

    /// <summary>RandomCrop(size, padding, reflect) with per-image offsets in [0, 2 * padding].</summary>
    public static Tensor PaddedCrop(Tensor x, int padding, int[] top, int[] left)
    {
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        var padded = nn.functional.pad(x, [padding, padding, padding, padding], PaddingModes.Reflect);
        using var height = h.ToScalar();
        using var width = w.ToScalar();
        var rows = tensor(top, device: x.device).view(b, 1).Plus(arange(Scalars.Zero, height, Scalars.One, device: x.device).view(1, h)).to_type(ScalarType.Int64);
        var cols = tensor(left, device: x.device).view(b, 1).Plus(arange(Scalars.Zero, width, Scalars.One, device: x.device).view(1, w)).to_type(ScalarType.Int64);
        var byRow = padded.gather(2, rows.view(b, 1, h, 1).expand(b, c, h, w + 2 * padding));
        return byRow.gather(3, cols.view(b, 1, 1, w).expand(b, c, h, w));
    }

    /// <summary>Resize the short side to <paramref name="resize"/> (bilinear, antialiased), centre-crop <paramref name="crop"/>.</summary>
    public static Tensor ResizeCenterCrop(Tensor x, int resize, int crop)
    {
        var resized = Data.FullPictureSource.ResizeShortSide(x, resize);
        long nh = resized.shape[2], nw = resized.shape[3];
        int top = (int)Math.Round((nh - crop) / 2.0), left = (int)Math.Round((nw - crop) / 2.0);
        return resized[.., .., top..(top + crop), left..(left + crop)];
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Augmentation;

/// <summary>
/// torchvision's colour functions on batches of [0, 1] RGB images [B, 3, H, W], each image with
/// its own factor (a [B] tensor). Definitions follow torchvision.transforms.functional_tensor.
/// </summary>
public static class ColorOps
{
    /// <summary>ITU-R 601-2 luma: 0.299 R + 0.587 G + 0.114 B, shape [B, 1, H, W].</summary>
    public static Tensor Grayscale(Tensor x)
    {
        var c = x.unbind(1);
        return (0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]).unsqueeze(1);
    }

    private static Tensor PerImage(Tensor factor) => factor.view(-1, 1, 1, 1);

    /// <summary>Blend of two images: f * a + (1 - f) * b, clamped to [0, 1].</summary>
    private static Tensor Blend(Tensor a, Tensor b, Tensor factor)
    {
        var f = PerImage(factor);
        return (f * a + (1 - f) * b).clamp(0, 1);
    }

    public static Tensor Brightness(Tensor x, Tensor factor) => (x * PerImage(factor)).clamp(0, 1);

    /// <summary>Blend with the image's mean grey level.</summary>
    public static Tensor Contrast(Tensor x, Tensor factor) =>
        Blend(x, Grayscale(x).mean([1, 2, 3], keepdim: true), factor);

    /// <summary>Blend with the image's own greyscale version.</summary>
    public static Tensor Saturation(Tensor x, Tensor factor) => Blend(x, Grayscale(x), factor);

    /// <summary>Rotates hue by <paramref name="shift"/> turns (in [-0.5, 0.5]) in HSV space.</summary>
    public static Tensor Hue(Tensor x, Tensor shift)
    {
        var hsv = RgbToHsv(x).unbind(1);
        var h = (hsv[0] + PerImage(shift).squeeze(1)).remainder(1.0);
        return HsvToRgb(stack([h, hsv[1], hsv[2]], 1));
    }

    public static Tensor RgbToHsv(Tensor x)
    {
        var rgb = x.unbind(1);
        Tensor r = rgb[0], g = rgb[1], b = rgb[2];
        var maxc = x.amax([1]);
        var minc = x.amin([1]);
        var eqc = maxc.eq(minc);
        var cr = maxc - minc;
        var ones = ones_like(maxc);
        var s = cr / where(eqc, ones, maxc);
        var crDivisor = where(eqc, ones, cr);
        var rc = (maxc - r) / crDivisor;
        var gc = (maxc - g) / crDivisor;
        var bc = (maxc - b) / crDivisor;
        var hr = maxc.eq(r).to_type(x.dtype) * (bc - gc);
        var hg = (maxc.eq(g) & maxc.ne(r)).to_type(x.dtype) * (2.0 + rc - bc);
        var hb = (maxc.ne(g) & maxc.ne(r)).to_type(x.dtype) * (4.0 + gc - rc);
        var h = ((hr + hg + hb) / 6.0 + 1.0).fmod(1.0);
        return stack([h, s, maxc], 1);
    }

    public static Tensor HsvToRgb(Tensor x)
    {
        var hsv = x.unbind(1);
        Tensor h = hsv[0], s = hsv[1], v = hsv[2];
        var i = (h * 6.0).floor();
        var f = h * 6.0 - i;
        var sector = i.to_type(ScalarType.Int64).remainder(6);
        var p = (v * (1.0 - s)).clamp(0, 1);
        var q = (v * (1.0 - s * f)).clamp(0, 1);
        var t = (v * (1.0 - s * (1.0 - f))).clamp(0, 1);
        // One-hot over the six hue sectors selects each channel's value.
        var mask = sector.unsqueeze(1).eq(arange(6, device: x.device).view(1, 6, 1, 1)).to_type(x.dtype);
        var red = stack([v, q, p, p, t, v], 1);
        var green = stack([t, v, v, q, p, p], 1);
        var blue = stack([p, p, t, v, v, q], 1);
        return stack([(mask * red).sum(1), (mask * green).sum(1), (mask * blue).sum(1)], 1);
    }
}

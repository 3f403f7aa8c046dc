using Aavae.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Augmentation;

/// <summary>
/// torchvision's colour functions on batches of [0, 1] RGB images [B, 3, H, W], each image with
/// its own factor (a [B] tensor). Definitions follow torchvision.transforms.functional_tensor.
/// Numbers reach libtorch as the explicit scalars below, never implicitly converted (see <see cref="Scalars"/>).
/// </summary>
public static class ColorOps
{
    private static readonly Scalar RedLuma = 0.299.ToScalar(), GreenLuma = 0.587.ToScalar(), BlueLuma = 0.114.ToScalar();
    private static readonly Scalar TwoDouble = 2.0.ToScalar(), FourDouble = 4.0.ToScalar(), SixDouble = 6.0.ToScalar(), Six = 6.ToScalar();

    /// <summary>ITU-R 601-2 luma: 0.299 R + 0.587 G + 0.114 B, shape [B, 1, H, W].</summary>
    public static Tensor Grayscale(Tensor x)
    {
        var c = x.unbind(1);
        return c[0].mul(RedLuma).Plus(c[1].mul(GreenLuma)).Plus(c[2].mul(BlueLuma)).unsqueeze(1);
    }

    private static Tensor PerImage(Tensor factor) => factor.view(-1, 1, 1, 1);

    /// <summary>Blend of two images: f * a + (1 - f) * b, clamped to [0, 1].</summary>
    private static Tensor Blend(Tensor a, Tensor b, Tensor factor)
    {
        var f = PerImage(factor);
        return f.mul(a).Plus(f.OneMinus().mul(b)).ClampUnit();
    }

    public static Tensor Brightness(Tensor x, Tensor factor) => x.mul(PerImage(factor)).ClampUnit();

    /// <summary>Blend with the image's mean grey level.</summary>
    public static Tensor Contrast(Tensor x, Tensor factor) =>
        Blend(x, Grayscale(x).mean([1, 2, 3], keepdim: true), factor);

    /// <summary>Blend with the image's own greyscale version.</summary>
    public static Tensor Saturation(Tensor x, Tensor factor) => Blend(x, Grayscale(x), factor);

    /// <summary>Rotates hue by <paramref name="shift"/> turns (in [-0.5, 0.5]) in HSV space.</summary>
    public static Tensor Hue(Tensor x, Tensor shift)
    {
        var hsv = RgbToHsv(x).unbind(1);
        var h = hsv[0].Plus(PerImage(shift).squeeze(1)).remainder(Scalars.OneDouble);
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
        var hg = (maxc.eq(g) & maxc.ne(r)).to_type(x.dtype) * rc.add(TwoDouble, Scalars.One).sub(bc);
        var hb = (maxc.ne(g) & maxc.ne(r)).to_type(x.dtype) * gc.add(FourDouble, Scalars.One).sub(rc);
        var h = hr.Plus(hg).Plus(hb).div(SixDouble).add(Scalars.OneDouble, Scalars.One).fmod(Scalars.OneDouble);
        return stack([h, s, maxc], 1);
    }

    public static Tensor HsvToRgb(Tensor x)
    {
        var hsv = x.unbind(1);
        Tensor h = hsv[0], s = hsv[1], v = hsv[2];
        var i = h.mul(SixDouble).floor();
        var f = h.mul(SixDouble).sub(i);
        var sector = i.to_type(ScalarType.Int64).remainder(Six);
        var p = v.mul(s.OneMinus()).ClampUnit();
        var q = v.mul(s.mul(f).OneMinus()).ClampUnit();
        var t = v.mul(s.mul(f.OneMinus()).OneMinus()).ClampUnit();
        // One-hot over the six hue sectors selects each channel's value.
        var mask = sector.unsqueeze(1).eq(arange(Scalars.Zero, Six, Scalars.One, device: x.device).view(1, 6, 1, 1)).to_type(x.dtype);
        var red = stack([v, q, p, p, t, v], 1);
        var green = stack([t, v, v, q, p, p], 1);
        var blue = stack([p, p, t, v, v, q], 1);
        return stack([(mask * red).sum(1), (mask * green).sum(1), (mask * blue).sum(1)], 1);
    }
}

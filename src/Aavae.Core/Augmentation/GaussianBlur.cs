using Aavae.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Augmentation;

/// <summary>
/// Separable Gaussian blur with a per-image sigma, as torchvision's GaussianBlur (reflect padding,
/// kernel exp(-x^2 / 2 sigma^2) normalised to sum 1). One grouped convolution per axis blurs the
/// whole batch.
/// </summary>
public static class GaussianBlur
{
    /// <summary>The reference's kernel size for an image side: int(0.1 * side), made odd.</summary>
    public static int KernelSize(int side)
    {
        int k = (int)(0.1 * side);
        return k % 2 == 0 ? k + 1 : k;
    }

    private static readonly Scalar MinusHalf = (-0.5).ToScalar();

    /// <summary>Normalised 1-D kernels, one row per sigma: [B, k].</summary>
    public static Tensor Kernels(Tensor sigma, int kernelSize)
    {
        var half = (kernelSize - 1) / 2.0;
        var xs = linspace(-half, half, kernelSize, dtype: sigma.dtype, device: sigma.device).view(1, -1);
        var pdf = xs.div(sigma.view(-1, 1)).pow(Scalars.Two).mul(MinusHalf).exp();
        return pdf / pdf.sum(1, keepdim: true);
    }

    public static Tensor Apply(Tensor x, Tensor sigma, int kernelSize)
    {
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        int pad = kernelSize / 2;
        var k = Kernels(sigma.to_type(x.dtype), kernelSize).repeat_interleave(c, dim: 0); // [B*C, k]
        var flat = x.reshape(1, b * c, h, w);
        flat = nn.functional.pad(flat, [pad, pad, pad, pad], PaddingModes.Reflect);
        flat = nn.functional.conv2d(flat, k.view(b * c, 1, kernelSize, 1), groups: b * c);
        flat = nn.functional.conv2d(flat, k.view(b * c, 1, 1, kernelSize), groups: b * c);
        return flat.view(b, c, h, w);
    }
}

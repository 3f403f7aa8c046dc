using Aavae.Augmentation;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Tests.Augmentation;

public class ColorOpsTests
{
    static Tensor Pixel(float r, float g, float b) => tensor(new[] { r, g, b }).view(1, 3, 1, 1);

    [Fact]
    public void GrayscaleUsesItuWeights()
    {
        var g = ColorOps.Grayscale(Pixel(1, 0, 0));
        Assert.Equal(0.299f, g.item<float>(), 5);
        Assert.Equal(0.587f, ColorOps.Grayscale(Pixel(0, 1, 0)).item<float>(), 5);
        Assert.Equal(0.114f, ColorOps.Grayscale(Pixel(0, 0, 1)).item<float>(), 5);
    }

    [Fact]
    public void HueRotationByZeroOrOneTurnIsIdentity()
    {
        manual_seed(1);
        var x = rand(4, 3, 5, 5);
        Assert.True(x.allclose(ColorOps.Hue(x, zeros(4)), atol: 1e-5));
        Assert.True(x.allclose(ColorOps.Hue(x, ones(4)), atol: 1e-5));
    }

    [Fact]
    public void HueHalfTurnMakesRedCyan()
    {
        var y = ColorOps.Hue(Pixel(1, 0, 0), tensor(new[] { 0.5f }));
        Assert.Equal(new[] { 0f, 1f, 1f }, y.flatten().data<float>().ToArray());
        // A third of a turn moves red to green.
        var g = ColorOps.Hue(Pixel(1, 0, 0), tensor(new[] { 1f / 3 }));
        Assert.True(g.flatten().allclose(tensor(new[] { 0f, 1f, 0f }), atol: 1e-5));
    }

    [Fact]
    public void BrightnessContrastSaturationByHand()
    {
        var x = Pixel(0.5f, 0.2f, 0.1f);
        Assert.True(ColorOps.Brightness(x, tensor(new[] { 1.5f })).flatten().allclose(tensor(new[] { 0.75f, 0.3f, 0.15f }), atol: 1e-6));
        // Grey level 0.299*0.5 + 0.587*0.2 + 0.114*0.1 = 0.2783; saturation 0 gives it on every channel.
        Assert.True(ColorOps.Saturation(x, tensor(new[] { 0f })).flatten().allclose(full(3, 0.2783f), atol: 1e-6));
        // Contrast 0.5 on a one-pixel image blends with its own mean grey: 0.5 x + 0.5 * 0.2783.
        Assert.True(ColorOps.Contrast(x, tensor(new[] { 0.5f })).flatten().allclose(tensor(new[] { 0.38915f, 0.23915f, 0.18915f }), atol: 1e-6));
    }

    [Fact]
    public void BlurMatchesSeparableGaussianComputedByHand()
    {
        // A delta in the middle of a 9x9 image blurred with a 5-tap kernel, sigma 1.3: the output
        // is the outer product of k(d) = exp(-d^2 / (2 sigma^2)) / sum over d in -2..2.
        var x = zeros(1, 3, 9, 9);
        x[0, .., 4, 4] = tensor(1f);
        double sigma = 1.3;
        var k = Enumerable.Range(-2, 5).Select(d => Math.Exp(-d * d / (2 * sigma * sigma))).ToArray();
        double sum = k.Sum();
        var y = GaussianBlur.Apply(x, tensor(new[] { (float)sigma }), 5);
        for (int dy = -2; dy <= 2; dy++)
            for (int dx = -2; dx <= 2; dx++)
                Assert.Equal(k[dy + 2] * k[dx + 2] / (sum * sum), y[0, 1, 4 + dy, 4 + dx].item<float>(), 6);
        Assert.Equal(0f, y[0, 0, 0, 0].item<float>());
        // Sigma matters: a wider blur leaves less at the centre.
        var wide = GaussianBlur.Apply(x, tensor(new[] { 2.0f }), 5);
        Assert.True(wide[0, 0, 4, 4].item<float>() < y[0, 0, 4, 4].item<float>());
    }

    [Fact]
    public void KernelSizeFollowsReference()
    {
        Assert.Equal(9, GaussianBlur.KernelSize(96));  // int(9.6) = 9
        Assert.Equal(23, GaussianBlur.KernelSize(224)); // int(22.4) = 22 -> 23
        Assert.Equal(3, GaussianBlur.KernelSize(32));
    }
}

using Aavae.Kernels;
using static TorchSharp.torch;

namespace Aavae.Tests.Kernels;

/// <summary>The subsampled route and the rule that keeps the guard from running a kernel that kills the process.</summary>
public class KnownCrashesTests
{
    [Theory]
    [InlineData(8, 16, 2, 9)]
    [InlineData(16, 8, 2, 8)]
    [InlineData(4, 4, 3, 7)]
    [InlineData(512, 1024, 2, 4)]   // ResNet-50's shortcut that crashes libtorch on Zen 5: checked against unfold+matmul only
    public void SubsampledRouteIsTheStridedOneByOneConvolutionWithItsGradients(int inChannels, int outChannels, int stride, int size)
    {
        // float64: the subsampled route against the plain strided convolution (libtorch's double
        // kernel, no oneDNN) and against unfold + matmul; output and the three gradients.
        manual_seed(3);
        using var scope = NewDisposeScope();
        var x = randn(2, inChannels, size, size, dtype: ScalarType.Float64);
        var w = randn(outChannels, inChannels, 1, 1, dtype: ScalarType.Float64);
        var b = randn(outChannels, dtype: ScalarType.Float64);
        long outSize = (size - 1) / stride + 1;
        var upstream = randn(2, outChannels, outSize, outSize, dtype: ScalarType.Float64);
        var references = new List<ConvRoute> { ConvRoute.Im2col };
        if (inChannels < 512) references.Add(ConvRoute.Native);
        var (y, gx, gw, gb) = Run(ConvRoute.Subsampled, x, w, b, upstream, stride);
        Assert.Equal([2L, outChannels, outSize, outSize], y.shape);
        foreach (var route in references)
        {
            var (ry, rgx, rgw, rgb) = Run(route, x, w, b, upstream, stride);
            foreach (var (a, e) in new[] { (y, ry), (gx, rgx), (gw, rgw), (gb, rgb) })
                Assert.True(a.allclose(e, rtol: 1e-10, atol: 1e-10), $"{route}: max |diff| {(a - e).abs().max().item<double>():G3}");
        }
    }

    private static (Tensor Y, Tensor Gx, Tensor Gw, Tensor Gb) Run(ConvRoute route, Tensor x, Tensor w, Tensor b, Tensor upstream, int stride)
    {
        var xi = x.detach().requires_grad_();
        var wi = w.detach().requires_grad_();
        var bi = b.detach().requires_grad_();
        var y = ConvRoutes.Apply(route, xi, wi, bi, stride, 0);
        y.backward([upstream]);
        return (y.detach(), xi.grad!, wi.grad!, bi.grad!);
    }

    [Fact]
    public void FallbacksOfAStridedOneByOneStartWithTheSubsampledRoute()
    {
        Assert.Equal([ConvRoute.Subsampled, ConvRoute.Im2col], ConvRoutes.FallbacksFor(new ConvShape(512, 1024, 1, 2, 0, false)));
        Assert.DoesNotContain(ConvRoute.Subsampled, ConvRoutes.FallbacksFor(new ConvShape(512, 512, 3, 2, 1, false)));
        Assert.DoesNotContain(ConvRoute.Subsampled, ConvRoutes.FallbacksFor(new ConvShape(512, 1024, 1, 1, 0, false)));
    }

    [Fact]
    public void TheCrashRuleNamesZen5AndTheMeasuredShapesOnly()
    {
        // /proc/cpuinfo lines of the machines measured: an AMD EPYC of family 26 (Zen 5) and an Intel Xeon of family 6.
        string[] zen5 = ["processor\t: 0", "vendor_id\t: AuthenticAMD", "cpu family\t: 26", "model\t\t: 2", "model name\t: AMD EPYC"];
        string[] xeon = ["processor\t: 0", "vendor_id\t: GenuineIntel", "cpu family\t: 6", "model\t\t: 207", "model name\t: Intel(R) Xeon(R) Processor"];
        string[] zen4 = ["vendor_id\t: AuthenticAMD", "cpu family\t: 25"];
        Assert.True(KnownCrashes.IsZen5(zen5));
        Assert.False(KnownCrashes.IsZen5(xeon));
        Assert.False(KnownCrashes.IsZen5(zen4));
        Assert.True(KnownCrashes.StridedOneByOneOnZen5(new ConvShape(512, 1024, 1, 2, 0, false)));
        Assert.True(KnownCrashes.StridedOneByOneOnZen5(new ConvShape(1024, 2048, 1, 2, 0, false)));
        Assert.False(KnownCrashes.StridedOneByOneOnZen5(new ConvShape(256, 512, 1, 2, 0, false)));
        Assert.False(KnownCrashes.StridedOneByOneOnZen5(new ConvShape(512, 512, 3, 2, 1, false)));
    }
}

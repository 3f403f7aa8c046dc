using Aavae.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Tests.Models;

public class ShapeTests
{
    // Every encoder with every stem, at width 8 so the whole matrix runs in seconds: width only
    // scales channel counts, so the spatial path checked here is the reference's.
    [Theory]
    [InlineData("resnet18"), InlineData("resnet34"), InlineData("resnet50"), InlineData("resnet50w2"), InlineData("resnet50w4")]
    public void EncoderPoolsToFeatureDimForEveryStem(string name)
    {
        var spec = Architecture.Encoder(name);
        foreach (var (stem, size) in new[] { (Stem.Cifar, 32), (Stem.Stl10, 96), (Stem.ImageNet, 224) })
        {
            using var scope = NewDisposeScope();
            using var encoder = new ResNetEncoder(spec, stem, width: 8);
            encoder.eval();
            using var _ = no_grad();
            var h = encoder.call(randn(2, 3, size, size));
            Assert.Equal(new long[] { 2, spec.FeatureDim(8) }, h.shape);
        }
    }

    [Theory]
    [InlineData("resnet18", 512), InlineData("resnet34", 512), InlineData("resnet50", 2048),
     InlineData("resnet50w2", 4096), InlineData("resnet50w4", 8192)]
    public void FeatureDimAtReferenceWidthIsPublishedValue(string name, int h) =>
        Assert.Equal(h, Architecture.Encoder(name).FeatureDim(64));

    [Fact]
    public void WideEncoderAtFullWidthProducesItsFeatures()
    {
        using var scope = NewDisposeScope();
        using var encoder = new ResNetEncoder(Architecture.Encoder("resnet50w2"), Stem.Cifar);
        encoder.eval();
        using var _ = no_grad();
        Assert.Equal(new long[] { 1, 4096 }, encoder.call(randn(1, 3, 32, 32)).shape);
    }

    [Theory]
    [InlineData("decoder18"), InlineData("decoder34"), InlineData("decoder50"), InlineData("decoder50w2"), InlineData("decoder50w4")]
    public void DecoderReconstructsInputSizeForEveryStem(string name)
    {
        var spec = Architecture.Decoder(name);
        foreach (var (stem, size) in new[] { (Stem.Cifar, 32), (Stem.Stl10, 96), (Stem.ImageNet, 224) })
        {
            using var scope = NewDisposeScope();
            using var decoder = new ResNetDecoder(spec, stem, size, latentDim: 16, hDim: 64, width: 8);
            using var _ = no_grad();
            Assert.Equal(new long[] { 2, 3, size, size }, decoder.call(randn(2, 16)).shape);
        }
    }

    [Theory]
    [InlineData("resnet18", 32, Stem.Cifar), InlineData("resnet50", 32, Stem.Cifar), InlineData("resnet18", 96, Stem.Stl10)]
    public void FullModelAtReferenceWidthRoundTripsShape(string encoder, int size, Stem stem)
    {
        using var scope = NewDisposeScope();
        using var model = new AavaeModel(new ModelOptions { Encoder = encoder, Stem = stem, InputHeight = size });
        model.eval();
        using var _ = no_grad();
        var latent = model.Encode(randn(2, 3, size, size));
        var (mu, logvar) = (latent.Mean, latent.LogVar!);
        Assert.Equal(new long[] { 2, 128 }, mu.shape);
        Assert.Equal(new long[] { 2, 128 }, logvar.shape);
        Assert.Equal(new long[] { 2, 3, size, size }, model.Decoder.call(mu).shape);
    }

    [Fact]
    public void UpscaleFactorFollowsStem()
    {
        Assert.Equal(8, Stem.Cifar.UpscaleFactor());
        Assert.Equal(16, Stem.Stl10.UpscaleFactor());
        Assert.Equal(32, Stem.ImageNet.UpscaleFactor());
    }
}

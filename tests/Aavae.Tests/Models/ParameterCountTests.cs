using Aavae.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Tests.Models;

/// <summary>Parameter counts measured with the PyTorch reference (CIFAR stem, width 64).</summary>
public class ParameterCountTests
{
    static long Count(nn.Module m) => m.parameters().Sum(p => p.numel());

    [Theory]
    [InlineData("resnet18", 11_168_832)]
    [InlineData("resnet50", 23_500_352)]
    public void EncoderMatchesReference(string name, long expected)
    {
        using var encoder = new ResNetEncoder(Architecture.Encoder(name), Stem.Cifar);
        Assert.Equal(expected, Count(encoder));
    }

    [Theory]
    [InlineData("resnet18")]
    [InlineData("resnet50")]
    public void SevenBySevenStemAdds7680(string name)
    {
        using var cifar = new ResNetEncoder(Architecture.Encoder(name), Stem.Cifar);
        using var stl = new ResNetEncoder(Architecture.Encoder(name), Stem.Stl10);
        using var imagenet = new ResNetEncoder(Architecture.Encoder(name), Stem.ImageNet);
        // 64 * 3 * (49 - 9): only conv1's kernel grows; the max-pool has no weights.
        Assert.Equal(7_680, Count(stl) - Count(cifar));
        Assert.Equal(Count(stl), Count(imagenet));
    }

    [Theory]
    [InlineData("decoder18", 512, 4_459_107)]
    [InlineData("decoder50", 2048, 13_291_203)]
    public void DecoderMatchesReference(string name, int h, long expected)
    {
        using var decoder = new ResNetDecoder(Architecture.Decoder(name), Stem.Cifar, 32, 128, h);
        Assert.Equal(expected, Count(decoder));
    }

    [Theory]
    [InlineData(512, 394_752)]
    [InlineData(2048, 4_724_736)]
    public void VaeHeadMatchesReference(int h, long expected)
    {
        using var head = new ProjectionHeadVAE(h, h, 128);
        Assert.Equal(expected, Count(head));
    }

    [Fact]
    public void AeHeadHasOneOutputLayer()
    {
        // h*h + h (first Linear) + 2h (BatchNorm) + h*latent (bias-free output), by hand for h=512.
        using var head = new ProjectionHeadAE(512, 512, 128);
        Assert.Equal(512L * 512 + 512 + 2 * 512 + 512 * 128, Count(head));
    }
}

using Aavae.Configuration;
using Aavae.Models;

namespace Aavae.Tests.Models;

public class BadOptionTests
{
    [Fact]
    public void UnknownEncoderNamesTheValueAndTheChoices()
    {
        var e = Assert.Throws<ArgumentException>(() => new ModelOptions { Encoder = "resnet101" }.Validate());
        Assert.Contains("resnet101", e.Message);
        Assert.Contains("resnet18, resnet34, resnet50, resnet50w2, resnet50w4", e.Message);
    }

    [Fact]
    public void UnknownDecoderNamesTheChoices()
    {
        var e = Assert.Throws<ArgumentException>(() => new ModelOptions { Decoder = "decoder9" }.Validate());
        Assert.Contains("decoder9", e.Message);
        Assert.Contains("decoder50w4", e.Message);
    }

    [Theory]
    [InlineData(0), InlineData(-3)]
    public void LatentBelowOneIsRefused(int latent)
    {
        var e = Assert.Throws<OptionException>(() => new ModelOptions { LatentDim = latent }.Validate());
        Assert.Equal(nameof(ModelOptions.LatentDim), e.Option);
        Assert.Contains(latent.ToString(), e.Message);
    }

    [Theory]
    [InlineData(Stem.Cifar, 28, 8), InlineData(Stem.Stl10, 100, 16), InlineData(Stem.ImageNet, 112, 32)]
    public void InputSizeTheDecoderCannotProduceIsRefused(Stem stem, int size, int factor)
    {
        var e = Assert.Throws<OptionException>(() => new ModelOptions { Stem = stem, InputHeight = size }.Validate());
        Assert.Equal(nameof(ModelOptions.InputHeight), e.Option);
        Assert.Contains(size.ToString(), e.Message);
        Assert.Contains($"multiple of {factor}", e.Message);
    }

    [Fact]
    public void MatchingDecoderFollowsEncoder() =>
        Assert.Equal("decoder50w2", new ModelOptions { Encoder = "resnet50w2" }.DecoderName);
}

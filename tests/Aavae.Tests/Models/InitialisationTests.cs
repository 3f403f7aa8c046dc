using Aavae.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Aavae.Tests.Models;

public class InitialisationTests
{
    [Fact]
    public void EncoderConvsAreKaimingNormalFanOut()
    {
        using var encoder = new ResNetEncoder(Architecture.Encoder("resnet18"), Stem.Cifar);
        var w = encoder.named_parameters().Single(p => p.name == "layer4.0.conv2.weight").parameter;
        // 512 x 512 x 3 x 3: fan_out = 512 * 9, so std = sqrt(2 / 4608) = 0.020833.
        double std = w.std().item<float>();
        Assert.InRange(std, 0.020833 * 0.98, 0.020833 * 1.02);
        Assert.InRange(w.mean().item<float>(), -1e-3, 1e-3);
    }

    [Fact]
    public void EncoderBatchNormStartsAsIdentity()
    {
        using var encoder = new ResNetEncoder(Architecture.Encoder("resnet50"), Stem.Cifar, width: 8);
        foreach (var bn in encoder.modules().OfType<BatchNorm2d>())
        {
            Assert.Equal(1f, bn.weight!.min().item<float>());
            Assert.Equal(1f, bn.weight!.max().item<float>());
            Assert.Equal(0f, bn.bias!.abs().max().item<float>());
        }
    }

    [Fact]
    public void DecoderLinearUsesPyTorchDefaultBound()
    {
        // nn.Linear default: weight ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        using var decoder = new ResNetDecoder(Architecture.Decoder("decoder18"), Stem.Cifar, 32, 128, 512);
        var w = decoder.named_parameters().Single(p => p.name == "linear_projection2.weight").parameter;
        double bound = 1 / Math.Sqrt(512);
        Assert.True(w.abs().max().item<float>() <= bound + 1e-7);
        Assert.InRange(w.abs().max().item<float>(), bound * 0.99, bound);
    }
}

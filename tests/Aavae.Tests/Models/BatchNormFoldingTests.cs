using Aavae.Models;
using Aavae.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Tests.Models;

/// <summary>
/// An encoder with its BatchNorms folded into the convolutions computes in eval mode what the
/// unfolded encoder computes (float32 rounding apart), also after its statistics move, and stays
/// the unfolded encoder in training mode and in its state_dict.
/// </summary>
public class BatchNormFoldingTests
{
    [Theory]
    [InlineData("resnet18", Stem.Cifar, 32, MemoryFormat.ChannelsLast)]
    [InlineData("resnet18", Stem.Cifar, 32, MemoryFormat.Contiguous)]
    [InlineData("resnet50", Stem.ImageNet, 64, MemoryFormat.ChannelsLast)]
    public void EvalFeaturesEqualTheUnfoldedEncodersAndTrainingModeIsUntouched(string name, Stem stem, int size, MemoryFormat format)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var plain = new ResNetEncoder(Architecture.Encoder(name), stem, 8);
        using var folded = new ResNetEncoder(Architecture.Encoder(name), stem, 8);
        // Statistics and affine parameters far from the identity, so that a wrong fold shows.
        BatchNorms.Spread(plain);
        folded.load_state_dict(plain.state_dict());
        ChannelsLast.Apply(plain, format);
        ChannelsLast.Apply(folded, format);
        var before = folded.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        plain.eval();
        folded.eval();

        int count = BatchNormFolding.Fold(folded);

        Assert.Equal(folded.modules().OfType<BatchNormNd>().Count(), count);
        var x = randn(4, 3, size, size);
        void EvalFeaturesAgree()
        {
            using var _ = inference_mode();
            var expected = plain.call(x);
            var actual = folded.call(x);
            double scale = expected.abs().max().item<float>();
            Assert.True(scale > 0.1, $"features too small to compare ({scale})");
            double error = (actual - expected).abs().max().item<float>();
            Assert.True(error <= 1e-5 * scale + 1e-6, $"folded features differ by {error} (features up to {scale})");
        }
        EvalFeaturesAgree();
        foreach (var (key, value) in folded.state_dict())
            Assert.True(value.allclose(before[key], rtol: 0, atol: 0), $"{key} changed by folding");

        // Training mode runs the parameters and batch statistics as before, bit for bit.
        plain.train();
        folded.train();
        Assert.True(plain.call(x).allclose(folded.call(x), rtol: 0, atol: 0), "training-mode output changed by folding");

        // That pass moved both encoders' running statistics: the fold follows them, it does not go stale.
        plain.eval();
        folded.eval();
        EvalFeaturesAgree();
    }
}

using Aavae.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Tests.Models;

/// <summary>The exported names are what move weights between this project and PyTorch.</summary>
public class StateDictNameTests
{
    [Fact]
    public void VaeModelUsesReferenceNames()
    {
        using var model = new AavaeModel(new ModelOptions { Encoder = "resnet18", Width = 8 });
        var keys = model.state_dict().Keys.ToHashSet();
        string[] expected =
        [
            "encoder.conv1.weight", "encoder.bn1.weight", "encoder.bn1.running_mean", "encoder.bn1.running_var",
            "encoder.bn1.num_batches_tracked", "encoder.layer1.0.conv1.weight", "encoder.layer1.0.bn1.running_mean",
            "encoder.layer2.0.downsample.0.weight", "encoder.layer2.0.downsample.1.running_var", "encoder.layer4.1.bn2.bias",
            "projection.first_layer.0.weight", "projection.first_layer.0.bias", "projection.first_layer.1.weight",
            "projection.first_layer.1.running_mean", "projection.mu.weight", "projection.logvar.weight",
            "decoder.linear_projection1.weight", "decoder.linear_projection2.bias", "decoder.conv1.weight",
            "decoder.layer1.0.upsample.1.weight", "decoder.layer2.0.upsample.1.weight", "decoder.layer2.0.conv1.bias",
            "decoder.layer4.1.conv2.weight", "decoder.conv2.weight", "decoder.final_conv.bias", "log_scale",
        ];
        foreach (var name in expected) Assert.Contains(name, keys);
        Assert.DoesNotContain("projection.mu.bias", keys); // bias-free heads
        Assert.DoesNotContain("encoder.conv1.bias", keys);
        Assert.DoesNotContain("encoder.layer1.0.downsample.0.weight", keys); // stride 1, same channels: no skip conv
    }

    [Fact]
    public void KeyCountsMatchReferenceStructure()
    {
        using var model = new AavaeModel(new ModelOptions { Encoder = "resnet18", Width = 8 });
        var keys = model.state_dict().Keys.ToList();
        // resnet18 encoder: conv1 + 17 more convs (16 in blocks + 3 downsample) -> 20 convs, 20 BNs x 5 entries.
        Assert.Equal(20 + 20 * 5, keys.Count(k => k.StartsWith("encoder.")));
        // decoder18: 2 linears (w,b), conv1, 8 blocks x 2 convs, 4 skip convs, conv2, final_conv; each w,b.
        Assert.Equal(2 * (2 + 1 + 16 + 4 + 2), keys.Count(k => k.StartsWith("decoder.")));
        // VAE head: first Linear (w,b) + BatchNorm1d (5) + mu + logvar.
        Assert.Equal(2 + 5 + 2, keys.Count(k => k.StartsWith("projection.")));
    }

    [Fact]
    public void BottleneckNamesAndAeHead()
    {
        using var model = new AavaeModel(new ModelOptions { Kind = ModelKind.Ae, Encoder = "resnet50", Width = 8 });
        var keys = model.state_dict().Keys.ToHashSet();
        Assert.Contains("encoder.layer1.0.conv3.weight", keys);
        Assert.Contains("encoder.layer1.0.bn3.running_var", keys);
        Assert.Contains("encoder.layer1.0.downsample.0.weight", keys); // channels grow x4 in the first block
        Assert.Contains("decoder.layer1.0.conv3.bias", keys);
        Assert.Contains("projection.projection_head.0.weight", keys);
        Assert.Contains("projection.projection_head.1.running_mean", keys);
        Assert.Contains("projection.projection_head.3.weight", keys);
        Assert.DoesNotContain("projection.projection_head.3.bias", keys);
        Assert.DoesNotContain("log_scale", keys);
    }

    [Fact]
    public void LogScaleIsOneElementAndTrainableOnlyWhenAsked()
    {
        using var fixedScale = new AavaeModel(new ModelOptions { Encoder = "resnet18", Width = 8, LogScale = -1.5 });
        Assert.Equal(new long[] { 1 }, fixedScale.LogScale!.shape);
        Assert.Equal(-1.5f, fixedScale.LogScale!.item<float>());
        Assert.False(fixedScale.LogScale!.requires_grad);
        using var learned = new AavaeModel(new ModelOptions { Encoder = "resnet18", Width = 8, LearnScale = true });
        Assert.True(learned.LogScale!.requires_grad);
    }
}

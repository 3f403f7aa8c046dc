using Aavae.Models;
using Aavae.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Tests.Objectives;

public class AeObjectiveTests
{
    [Fact]
    public void LossIsMeanSquaredErrorOfTheInput()
    {
        manual_seed(5);
        using var model = new AavaeModel(new ModelOptions { Kind = ModelKind.Ae, Encoder = "resnet18", Width = 4, LatentDim = 8 });
        model.eval();
        var x = randn(2, 3, 32, 32);
        var step = model.forward(x, x).Read();
        using var _ = no_grad();
        var xHat = model.Reconstruct(x);
        double byHand = (xHat - x).square().sum().item<float>() / (2 * 3 * 32 * 32);
        Assert.Equal(byHand, step["mse"], 4);
        Assert.Equal(1.0, step["cos_sim"], 4); // same input twice in eval mode
    }
}

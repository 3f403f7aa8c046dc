using Aavae.Kernels;
using Aavae.Models;
using Aavae.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Tests.Kernels;

public class KernelGuardTests
{
    private static readonly ModelOptions Small = new() { Encoder = "resnet18", Width = 8, LatentDim = 16 };

    private static double RelativeError(Tensor actual, Tensor expected)
    {
        var e = expected.to(ScalarType.Float64);
        return actual.to(ScalarType.Float64).sub(e).abs().max().item<double>() / Math.Max(e.abs().max().item<double>(), 1e-30);
    }

    private static AavaeModel Seeded(ModelOptions options)
    {
        manual_seed(3);
        return new AavaeModel(options);
    }

    /// <summary>Loss and gradients of one AAVAE step with fixed noise (the sampler is seeded).</summary>
    private static (double Loss, Dictionary<string, Tensor> Grads) Step(AavaeModel model, Tensor x, Tensor original)
    {
        model.zero_grad();
        manual_seed(11);
        var loss = model.forward(x, original, 1, new VaeObjective(0.1)).Loss;
        loss.backward();
        return (loss.item<float>(), model.named_parameters().Where(p => p.parameter.grad is not null)
            .ToDictionary(p => p.name, p => p.parameter.grad!.clone()));
    }

    [Theory]
    [InlineData(15)]     // every layer with under 16 output channels -> padded route
    [InlineData(100000)] // every layer -> padded where it applies, unfold+matmul elsewhere
    public void ShapesCountedAsBrokenAreReroutedAndComputeThePlainLayersResultsGradientsAndTraining(int brokenBelow)
    {
        using var scope = NewDisposeScope();
        using var plain = Seeded(Small);
        using var guarded = Seeded(Small);
        var guard = new KernelGuard(shape => shape.OutChannels <= brokenBelow);
        var report = guard.Protect(guarded, CPU);

        Assert.False(report.AllNative);
        Assert.Empty(report.Unfixable);
        Assert.Contains(report.Rerouted, d => d.Route == ConvRoute.PaddedOutput && d.Shape.OutChannels == 3);
        if (brokenBelow > 1000) Assert.Contains(report.Rerouted, d => d.Route == ConvRoute.Im2col);
        Assert.StartsWith("convolution check: libtorch computes wrong gradients on this CPU for ", report.Summary);
        Assert.Equal(report.Decisions.Count, guarded.modules().OfType<GuardedConv2d>().Select(c => c.Shape).Distinct().Count());
        Assert.All(guarded.modules().OfType<GuardedConv2d>(), c => Assert.Equal(c.Shape.OutChannels <= brokenBelow, c.Route != ConvRoute.Native));

        // Each rerouted layer computes what the plain layer computes: output and gradients within 1e-6.
        manual_seed(5);
        foreach (var layer in guarded.modules().OfType<GuardedConv2d>().Where(l => l.Route != ConvRoute.Native).DistinctBy(l => l.Shape))
        {
            var input = randn(2, layer.Shape.InChannels, 8, 8);
            var rerouted = LayerPass(layer, layer.Route, input);
            var native = LayerPass(layer, ConvRoute.Native, input);
            for (int i = 0; i < native.Length; i++)
                Assert.True(RelativeError(rerouted[i], native[i]) <= 1e-6, $"{layer.Shape} via {layer.Route}, tensor {i}: {RelativeError(rerouted[i], native[i]):G3}");
        }

        // The whole model: the same loss and gradients, and the same weights after a few SGD steps.
        var x = rand(8, 3, 32, 32);
        var original = rand(8, 3, 32, 32);
        plain.train();
        guarded.train();
        var (plainLoss, plainGrads) = Step(plain, x, original);
        var (guardedLoss, guardedGrads) = Step(guarded, x, original);
        Assert.True(Math.Abs(plainLoss - guardedLoss) <= 1e-6 * Math.Abs(plainLoss), $"loss {plainLoss} vs {guardedLoss}");
        AssertClose(plainGrads, guardedGrads, "gradient");

        using var optPlain = optim.SGD(plain.parameters(), 1e-5);
        using var optGuarded = optim.SGD(guarded.parameters(), 1e-5);
        for (int i = 0; i < 3; i++)
        {
            Step(plain, x, original);
            optPlain.step();
            Step(guarded, x, original);
            optGuarded.step();
        }
        AssertClose(plain.state_dict().ToDictionary(), guarded.state_dict().ToDictionary(), "trained weight");
    }

    /// <summary>Within 1e-5 of each tensor's own scale, or 1e-7 of the largest: a bias followed by BatchNorm has a true gradient of zero, so its computed one is rounding noise.</summary>
    private static void AssertClose(Dictionary<string, Tensor> expected, Dictionary<string, Tensor> actual, string what)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        double largest = expected.Values.Where(t => t.is_floating_point()).Max(t => t.abs().max().to(ScalarType.Float64).item<double>());
        foreach (var (name, e) in expected)
        {
            if (!e.is_floating_point()) continue;
            var e64 = e.to(ScalarType.Float64);
            double diff = actual[name].to(ScalarType.Float64).sub(e64).abs().max().item<double>();
            double scale = e64.abs().max().item<double>();
            Assert.True(diff <= 1e-5 * scale || diff <= 1e-7 * largest, $"{what} {name}: off by {diff:G3} (scale {scale:G3}, largest {largest:G3})");
        }
    }

    private static Tensor[] LayerPass(GuardedConv2d layer, ConvRoute route, Tensor input)
    {
        var saved = layer.Route;
        layer.Route = route;
        layer.zero_grad();
        var x = input.detach().requires_grad_();
        var y = layer.call(x);
        y.backward([ones_like(y)]);
        layer.Route = saved;
        var result = new List<Tensor> { y.detach(), x.grad!, layer.weight.grad!.clone() };
        if (layer.bias is not null) result.Add(layer.bias.grad!.clone());
        return [.. result];
    }

    [Fact]
    public void CheckingLeavesTheTrainingGeneratorAlone()
    {
        using var scope = NewDisposeScope();
        manual_seed(42);
        var before = get_rng_state();
        var report = new KernelGuard().Protect(Seeded(Small), CPU);
        manual_seed(42);
        Assert.True(before.eq(get_rng_state()).all().item<bool>());
        Assert.NotEmpty(report.Decisions);
    }

    [Fact]
    public void ReportRecordsWhatWasReroutedForTheRunConfiguration()
    {
        using var model = Seeded(Small);
        var report = new KernelGuard(s => s.OutChannels == 3).Protect(model, CPU);
        var json = report.ToJson();
        Assert.Equal(false, json["all_native"]);
        var rerouted = Assert.Single((System.Collections.IList)json["rerouted"]!);
        var entry = (Dictionary<string, object?>)rerouted!;
        Assert.Equal("conv 8->3 3x3 stride 1 pad 1 +bias", entry["shape"]);
        Assert.Equal("padded-to-16-output-channels", entry["route"]);
        Assert.Equal("forced", entry["native_error"]);
    }
}

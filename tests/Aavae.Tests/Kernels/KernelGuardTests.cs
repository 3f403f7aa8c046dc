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

    /// <summary>Loss and gradients of one AAVAE step with fixed noise.</summary>
    private static (double Loss, Dictionary<string, Tensor> Grads) Step(AavaeModel model, Tensor x, Tensor original)
    {
        model.zero_grad();
        // The same noise in float32 and float64 (libtorch draws different normals for the two types).
        using var generator = new Generator(11);
        using var noise = randn([x.shape[0], Small.LatentDim], ScalarType.Float64, generator: generator);
        var loss = model.forward(x, original, 1, new VaeObjective(0.1, like => noise.to(like.dtype))).Loss;
        loss.backward();
        return (loss.to(ScalarType.Float64).item<double>(), model.named_parameters().Where(p => p.parameter.grad is not null)
            .ToDictionary(p => p.name, p => p.parameter.grad!.clone()));
    }

    [Theory]
    [InlineData(15)]     // every layer with under 16 output channels -> padded route
    [InlineData(100000)] // every layer -> subsampled or padded where they apply, unfold+matmul elsewhere
    public void ShapesCountedAsBrokenAreReroutedAndComputeThePlainLayersResultsGradientsAndTraining(int brokenBelow)
    {
        // The reference is the plain model in float64 (libtorch's double convolutions do not go
        // through oneDNN): on a CPU where oneDNN's float32 gradients are wrong (AMD Zen 5) the plain
        // float32 model is no reference, and the guard reroutes those shapes too.
        using var scope = NewDisposeScope();
        using var plain = Seeded(Small);
        plain.to(ScalarType.Float64);
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

        // Each rerouted layer computes the layer's function: output and gradients within 1e-5 of float64.
        manual_seed(5);
        foreach (var layer in guarded.modules().OfType<GuardedConv2d>().Where(l => l.Route != ConvRoute.Native).DistinctBy(l => l.Shape))
        {
            var input = randn(2, layer.Shape.InChannels, 8, 8);
            var rerouted = LayerPass(layer, layer.Route, input);
            var exact = LayerPass64(layer, input);
            for (int i = 0; i < exact.Length; i++)
                Assert.True(RelativeError(rerouted[i], exact[i]) <= 1e-5, $"{layer.Shape} via {layer.Route}, tensor {i}: {RelativeError(rerouted[i], exact[i]):G3}");
        }

        // The whole model: the same loss and gradients, and the same weights after a few SGD steps.
        var x = rand(8, 3, 32, 32);
        var original = rand(8, 3, 32, 32);
        plain.train();
        guarded.train();
        var (x64, original64) = (x.to(ScalarType.Float64), original.to(ScalarType.Float64));
        var (plainLoss, plainGrads) = Step(plain, x64, original64);
        var (guardedLoss, guardedGrads) = Step(guarded, x, original);
        Assert.True(Math.Abs(plainLoss - guardedLoss) <= 2e-5 * Math.Abs(plainLoss), $"loss {plainLoss} vs {guardedLoss}");  // float32 against float64: a sum over 8 x 3,072 pixels
        AssertClose(plainGrads, guardedGrads, "gradient");

        using var optPlain = optim.SGD(plain.parameters(), 1e-5);
        using var optGuarded = optim.SGD(guarded.parameters(), 1e-5);
        for (int i = 0; i < 3; i++)
        {
            Step(plain, x64, original64);
            optPlain.step();
            Step(guarded, x, original);
            optGuarded.step();
        }
        AssertClose(plain.state_dict().ToDictionary(), guarded.state_dict().ToDictionary(), "trained weight");
    }

    /// <summary>
    /// Within 1e-5 of each tensor's own scale plus 2e-6 of the largest: float32 against float64, a
    /// small gradient that is the difference of large ones (the first layer's, a bias followed by
    /// BatchNorm whose true gradient is zero) carries the rounding of the large ones. A wrong kernel
    /// is off by tens of percent.
    /// </summary>
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
            Assert.True(diff <= 1e-5 * scale + 2e-6 * largest, $"{what} {name}: off by {diff:G3} (scale {scale:G3}, largest {largest:G3})");
        }
    }

    /// <summary>The same pass in float64 through unfold + matmul: no convolution kernel that could be wrong.</summary>
    private static Tensor[] LayerPass64(GuardedConv2d layer, Tensor input)
    {
        var x = input.to(ScalarType.Float64).requires_grad_();
        var w = layer.weight.detach().to(ScalarType.Float64).requires_grad_();
        var b = layer.bias?.detach().to(ScalarType.Float64).requires_grad_();
        var y = ConvRoutes.Apply(ConvRoute.Im2col, x, w, b, layer.Shape.Stride, layer.Shape.Padding);
        y.backward([ones_like(y)]);
        var result = new List<Tensor> { y.detach(), x.grad!, w.grad! };
        if (b is not null) result.Add(b.grad!);
        return [.. result];
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
        // The forced shape, and on a CPU where oneDNN is wrong (AMD Zen 5) the shapes measured wrong, with their errors.
        var rerouted = ((System.Collections.IList)json["rerouted"]!).Cast<Dictionary<string, object?>>().ToList();
        var entry = Assert.Single(rerouted, e => (string)e["shape"]! == "conv 8->3 3x3 stride 1 pad 1 +bias");
        Assert.Equal("padded-to-16-output-channels", entry["route"]);
        Assert.Equal("forced", entry["native_error"]);
        Assert.All(rerouted.Where(e => e != entry), e => Assert.StartsWith("output ", (string)e["native_error"]!));
        Assert.Equal(report.Rerouted.Count(d => !d.ForcedBroken), rerouted.Count - 1);
    }

    [Fact]
    public void EachLayerIsCheckedInItsLayoutAndComputeType()
    {
        // One decision per shape, layout and type: a channels-last bf16-mixed model asks for
        // channels-last bfloat16 checks, which pass within bf16's tolerance and not float32's.
        using var model = Seeded(Small);
        Aavae.Runtime.ChannelsLast.Apply(model, Aavae.Runtime.MemoryFormat.ChannelsLast);
        MixedPrecision.Apply(model, Aavae.Runtime.Precision.Bf16Mixed);
        var report = new KernelGuard().Protect(model, CPU);
        Assert.True(report.AllNative, report.Summary);
        Assert.All(report.Decisions, d => Assert.Equal(ConvCheck.Bf16Tolerance, d.Tolerance));
        var shape = report.Decisions[0].Shape;
        var bf16 = ConvCheck.Measure(shape, ConvRoute.Native, CPU, 7, Aavae.Runtime.MemoryFormat.ChannelsLast, ScalarType.BFloat16);
        var fp32 = ConvCheck.Measure(shape, ConvRoute.Native, CPU, 7, Aavae.Runtime.MemoryFormat.ChannelsLast);
        Assert.True(bf16.Max <= ConvCheck.Bf16Tolerance, bf16.ToString());
        // It really ran in bfloat16: rounding shows far above float32's.
        Assert.True(bf16.Max > 10 * fp32.Max && fp32.Max <= ConvCheck.Tolerance, $"bf16 {bf16}, float32 {fp32}");
    }
}

using Aavae.Runtime;
using Aavae.Checkpoints;
using Aavae.Kernels;
using Aavae.Models;
using Aavae.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Tests.Interop;

/// <summary>
/// A whole AAVAE training step (the original image's pass without gradient, the augmented view's
/// pass, projection, one reparameterised sample, decoder, kl_coeff * KL - log p(x|z)) computed by
/// this project in float32 against the reference's step computed by PyTorch in float64 on the same
/// weights, inputs and noise: every parameter's gradient. A CPU whose convolution kernels compute
/// wrong gradients fails here (errors of 0.4 and more), NaN or not; the guard is what makes it pass.
/// </summary>
public class GradientParityTests
{
    [RequiresTheory(Need.PyTorch)]
    [InlineData("resnet18", 8, "cifar")]
    [InlineData("resnet18", 16, "cifar")]
    [InlineData("resnet18", 64, "cifar")]
    [InlineData("resnet18", 16, "stl10")]
    [InlineData("resnet18", 16, "imagenet")]
    [InlineData("resnet50", 8, "cifar")]
    public void EveryParameterGradientOfATrainingStepMatchesPyTorchInFloat64(string encoder, int width, string stem)
    {
        var fixture = Path.Combine(TempDir.Create(), "step.pt");
        ReferenceFixtures.RunPython("step", fixture, encoder, width.ToString(), stem);
        using var scope = NewDisposeScope();
        var content = TorchFile.Read(fixture);
        var weights = StateDicts.Select((System.Collections.IDictionary)content["weights"]!, "");
        var expected = StateDicts.Select((System.Collections.IDictionary)content["grads"]!, "");
        double expectedLoss = ((Tensor)content["loss"]!).item<double>();
        var x = (Tensor)content["x"]!;
        var options = new ModelOptions
        {
            Encoder = encoder, Width = width, Stem = StemExtensions.Parse(stem), InputHeight = (int)x.shape[2],
            LatentDim = Convert.ToInt32(content["latent_dim"]), LearnScale = true,
        };
        // In float64 the two implementations must compute the same function: any difference is a
        // difference in the networks or the objective, not rounding.
        var (loss64, grads64) = Step(options, weights, content, ScalarType.Float64);
        Compare(expected, grads64, loss64, expectedLoss, tolerance: 1e-9, "float64");
        // In float32, on oneDNN's kernels as the guard routes them: within float32 rounding of the
        // truth (BatchNorm scale gradients, sums that nearly cancel, reach 1% at width 8). A wrong
        // convolution kernel is off by 0.4 and more.
        // Both memory formats: oneDNN runs other kernels on channels-last tensors, so each is checked.
        foreach (var format in new[] { MemoryFormat.Contiguous, MemoryFormat.ChannelsLast })
        {
            var (loss32, grads32) = Step(options, weights, content, ScalarType.Float32, format);
            Compare(expected, grads32, loss32, expectedLoss, tolerance: 5e-2, $"float32, {format.Name()}");
        }
        // bf16-mixed against the same truth, judged by how far PyTorch's own bf16 autocast step lands
        // from it: bf16 keeps 8 bits of mantissa, so both are off by about a percent, and which
        // layer rounds where differs (the projection heads stay float32 here). A wrong bf16 kernel
        // is off by far more, or NaN.
        var pytorchBf16 = StateDicts.Select((System.Collections.IDictionary)content["grads_bf16"]!, "");
        var (lossBf16, gradsBf16) = Step(options, weights, content, ScalarType.Float32, MemoryFormat.ChannelsLast, Precision.Bf16Mixed);
        CompareMixed(expected, gradsBf16, pytorchBf16, lossBf16, ((Tensor)content["loss_bf16"]!).to(ScalarType.Float64).item<double>(), expectedLoss);
    }

    private static (double Loss, Dictionary<string, Tensor?> Grads) Step(ModelOptions options, Dictionary<string, Tensor> weights, System.Collections.Hashtable content, ScalarType dtype,
        MemoryFormat format = MemoryFormat.Contiguous, Precision precision = Precision.Full32)
    {
        using var model = new AavaeModel(options);
        StateDicts.Load(model, weights, strict: true, "fixture");
        model.to(dtype);
        ChannelsLast.Apply(model, format);
        MixedPrecision.Apply(model, precision);
        KernelGuard.Shared.Protect(model, CPU);
        model.train();
        var noise = new Queue<Tensor>(((System.Collections.IList)content["noise"]!).Cast<Tensor>().Select(t => t.to(dtype)));
        var step = model.forward(((Tensor)content["x"]!).to(dtype), ((Tensor)content["original"]!).to(dtype), 1,
            new VaeObjective(Convert.ToDouble(content["kl_coeff"]), like => noise.Dequeue()));
        step.Loss.backward();
        Assert.Empty(noise);
        return (step.Loss.to(ScalarType.Float64).item<double>(), model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad));
    }

    /// <summary>Each gradient's relative L2 error ||actual - expected|| / ||expected||; a bias followed
    /// by BatchNorm has a true gradient of zero, so it is judged against the largest gradient norm instead.</summary>
    private static void Compare(Dictionary<string, Tensor> expected, Dictionary<string, Tensor?> actual, double loss, double expectedLoss, double tolerance, string what)
    {
        Assert.True(Math.Abs(loss - expectedLoss) <= tolerance * Math.Abs(expectedLoss), $"{what}: loss {loss} vs PyTorch {expectedLoss}");
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        double largest = expected.Values.Max(g => g.norm().item<double>());
        var wrong = new List<string>();
        foreach (var (name, g) in expected)
        {
            if (actual[name] is not { } a) { wrong.Add($"{name}: no gradient"); continue; }
            double diff = a.to(ScalarType.Float64).sub(g).norm().item<double>();
            double scale = g.norm().item<double>();
            if (!(diff <= tolerance * scale || diff <= tolerance * 1e-3 * largest)) wrong.Add($"{name}: relative error {diff / scale:G3}");
        }
        Assert.True(wrong.Count == 0, $"{what}: {wrong.Count} of {expected.Count} gradients differ from PyTorch's:\n{string.Join("\n", wrong)}");
    }

    /// <summary>
    /// Each gradient's relative L2 error against the truth must stay within <see cref="Bf16Factor"/>
    /// times PyTorch's bf16 autocast error for the same parameter, or under <see cref="Bf16Floor"/>
    /// (a few bf16 roundings, 2^-8 each); the loss likewise.
    /// </summary>
    private static void CompareMixed(Dictionary<string, Tensor> truth, Dictionary<string, Tensor?> actual, Dictionary<string, Tensor> pytorch,
        double loss, double pytorchLoss, double trueLoss)
    {
        double Rel(double a, double b) => Math.Abs(a - b) / Math.Abs(b);
        Assert.True(Rel(loss, trueLoss) <= Bf16Factor * Rel(pytorchLoss, trueLoss) + Bf16Floor,
            $"bf16-mixed: loss {loss} vs truth {trueLoss} (PyTorch bf16 autocast {pytorchLoss})");
        double largest = truth.Values.Max(g => g.norm().item<double>());
        var wrong = new List<string>();
        var errors = new List<(string Name, double Ours, double PyTorch)>();
        foreach (var (name, g) in truth)
        {
            if (actual[name] is not { } a) { wrong.Add($"{name}: no gradient"); continue; }
            // A bias followed by BatchNorm has a true gradient of zero: judged against the largest norm.
            double scale = Math.Max(g.norm().item<double>(), 1e-3 * largest);
            double ours = a.to(ScalarType.Float64).sub(g).norm().item<double>() / scale;
            double theirs = pytorch[name].to(ScalarType.Float64).sub(g).norm().item<double>() / scale;
            errors.Add((name, ours, theirs));
            if (!(ours <= Bf16Factor * theirs + Bf16Floor)) wrong.Add($"{name}: relative error {ours:G3}, PyTorch bf16 autocast {theirs:G3}");
        }
        double Median(IEnumerable<double> v) => v.Order().ElementAt(errors.Count / 2);
        Assert.True(wrong.Count == 0, $"bf16-mixed: {wrong.Count} of {truth.Count} gradients off (median error {Median(errors.Select(e => e.Ours)):G3}, PyTorch's {Median(errors.Select(e => e.PyTorch)):G3}):\n{string.Join("\n", wrong)}");
    }

    private const double Bf16Factor = 3;
    private const double Bf16Floor = 0.03;
}

using Aavae.Kernels;
using Aavae.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Tests.Kernels;

/// <summary>
/// Every distinct convolution the networks build, at the widths and stems users train, computed
/// as the library computes it (after the guard) in float32 against the same layer in float64
/// (libtorch's plain double convolution, not the guard's unfold reference): output and the
/// gradients of input, weight and bias, on inputs of the size the layer sees in training.
/// </summary>
public class ConvolutionShapeTests
{
    public static TheoryData<string, int, Stem> Networks => new()
    {
        { "resnet18", 8, Stem.Cifar },
        { "resnet18", 16, Stem.Cifar },
        { "resnet18", 64, Stem.Cifar },
        { "resnet18", 16, Stem.Stl10 },
        { "resnet18", 16, Stem.ImageNet },
        { "resnet50", 8, Stem.Cifar },
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void EveryConvolutionIsRightInFloat32AsTheLibraryComputesIt(string encoder, int width, Stem stem)
    {
        int input = stem == Stem.Cifar ? 32 : 64;
        using var model = new AavaeModel(new ModelOptions { Encoder = encoder, Width = width, Stem = stem, InputHeight = input, LatentDim = 16 });
        var report = KernelGuard.Shared.Protect(model, CPU);
        Assert.Empty(report.Unfixable);

        // One layer per shape, with the spatial size it meets in the network (a forward hook records it).
        var layers = model.modules().OfType<GuardedConv2d>().GroupBy(l => l.Shape).Select(g => g.First()).ToList();
        var sizes = new Dictionary<GuardedConv2d, long>();
        var hooks = layers.Select(l => l.register_forward_pre_hook((m, x) => { sizes[(GuardedConv2d)m] = x.shape[2]; return x; })).ToList();
        using (no_grad())
        {
            model.eval();
            model.Encoder.call(zeros(2, 3, input, input));
            model.Decoder.call(zeros(2, 16));
        }
        foreach (var hook in hooks) hook.remove();

        var failures = new List<string>();
        manual_seed(7);
        foreach (var layer in layers)
        {
            using var scope = NewDisposeScope();
            long size = sizes[layer], outSize = layer.Shape.OutputSize(size);
            var x = randn(4, layer.Shape.InChannels, size, size);
            var upstream = randn(4, layer.Shape.OutChannels, outSize, outSize);
            using var reference = GuardedConv2d.Create(layer.Shape.InChannels, layer.Shape.OutChannels, layer.Shape.Kernel, layer.Shape.Stride, layer.Shape.Padding, layer.Shape.Bias);
            using (no_grad())
            {
                reference.weight.copy_(layer.weight);
                reference.bias?.copy_(layer.bias!);
            }
            reference.to(ScalarType.Float64);
            var (y32, grads32) = Run(layer, x, upstream);
            var (y64, grads64) = Run(reference, x.to(ScalarType.Float64), upstream.to(ScalarType.Float64));
            var errors = new[] { ("output", y32, y64) }
                .Concat(grads32.Zip(grads64, (a, b) => (a.Name, a.Grad, b.Grad)))
                .Select(t => (t.Item1, Error(t.Item2, t.Item3)))
                .Where(t => !(t.Item2 <= 1e-4)).ToList();
            if (errors.Count > 0)
                failures.Add($"{layer.Shape} via {layer.Route}: {string.Join(", ", errors.Select(e => $"{e.Item1} {e.Item2:G3}"))}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static (Tensor Output, List<(string Name, Tensor Grad)> Grads) Run(GuardedConv2d layer, Tensor x, Tensor upstream)
    {
        layer.zero_grad();
        x = x.detach().requires_grad_();
        var y = layer.call(x);
        y.backward([upstream]);
        var grads = new List<(string, Tensor)> { ("input grad", x.grad!.clone()), ("weight grad", layer.weight.grad!.clone()) };
        if (layer.bias is not null) grads.Add(("bias grad", layer.bias.grad!.clone()));
        return (y.detach(), grads);
    }

    private static double Error(Tensor actual, Tensor expected)
    {
        var a = actual.to(ScalarType.Float64);
        if (!a.isfinite().all().item<bool>()) return double.PositiveInfinity;
        return a.sub(expected).abs().max().item<double>() / Math.Max(expected.abs().max().item<double>(), 1e-30);
    }
}

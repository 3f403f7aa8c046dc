using Aavae.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Kernels;

/// <summary>
/// Largest error of a float32 convolution route against float64, relative to the largest
/// magnitude of the float64 result, for the output and each gradient. NaN or infinity counts as
/// an infinite error.
/// </summary>
public sealed record ConvError(double Output, double InputGrad, double WeightGrad, double BiasGrad)
{
    public double Max => new[] { Output, InputGrad, WeightGrad, BiasGrad }.Max();

    /// <summary>A native kernel not run because it is known to kill the process on this CPU (<see cref="KnownCrashes"/>).</summary>
    public static ConvError Crashes { get; } = new(double.PositiveInfinity, double.PositiveInfinity, double.PositiveInfinity, double.PositiveInfinity);

    /// <summary>The check itself did not finish: its trial process crashed or hung (<see cref="KernelTrials"/>).</summary>
    public string? Failure { get; init; }

    /// <summary>The oneDNN kernels the check ran, where it ran in a trial process ("direction implementation").</summary>
    public IReadOnlyList<string>? Kernels { get; init; }

    public static ConvError Failed(string how) => Crashes with { Failure = how };

    public override string ToString() => Failure is { } failure ? failure : ReferenceEquals(this, Crashes) ? "not run: libtorch crashes on it on this CPU" :
        $"output {Output:G2}, input grad {InputGrad:G2}, weight grad {WeightGrad:G2}{(BiasGrad > 0 ? $", bias grad {BiasGrad:G2}" : "")}";
}

/// <summary>
/// Runs one convolution shape through a route in float32 on a small random input and compares
/// the output and all three gradients with the same function in float64 computed without any
/// convolution kernel (unfold + matrix product), so a wrong conv kernel cannot agree with itself.
/// Uses its own generator: the global one that drives training is left untouched.
/// </summary>
public static class ConvCheck
{
    /// <summary>Error above which a route counts as wrong. Right kernels stay below 1e-5 here; the
    /// broken ones seen in the wild are off by 0.4 and more.</summary>
    public const double Tolerance = 1e-4;

    /// <summary>The same for bfloat16 convolutions, whose inputs are rounded to bfloat16 before the float64
    /// reference sees them, so only the kernel's own accumulation and output rounding (2^-8) remain.</summary>
    public const double Bf16Tolerance = 2e-2;

    public static double ToleranceFor(ScalarType? computeType) => computeType is ScalarType.BFloat16 or ScalarType.Float16 ? Bf16Tolerance : Tolerance;

    /// <param name="format">The layout of the float32 run: oneDNN picks other kernels for channels-last
    /// tensors, so a layer is checked in the layout it trains in.</param>
    /// <param name="computeType">The reduced type the layer computes in under mixed precision; null: float32.</param>
    public static ConvError Measure(ConvShape shape, ConvRoute route, Device device, ulong seed, MemoryFormat format = MemoryFormat.Contiguous,
        ScalarType? computeType = null)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(seed, device);
        long batch = shape.CheckBatch, size = shape.CheckInputSize, outSize = shape.OutputSize(size);
        var x = randn([batch, shape.InChannels, size, size], dtype: ScalarType.Float64, device: device, generator: generator);
        using var fanIn = Math.Sqrt(shape.InChannels * shape.Kernel * shape.Kernel).ToScalar();
        var w = randn([shape.OutChannels, shape.InChannels, shape.Kernel, shape.Kernel], dtype: ScalarType.Float64, device: device, generator: generator)
            .div_(fanIn);
        var b = shape.Bias ? randn([shape.OutChannels], dtype: ScalarType.Float64, device: device, generator: generator) : null;
        var upstream = randn([batch, shape.OutChannels, outSize, outSize], dtype: ScalarType.Float64, device: device, generator: generator);
        if (computeType is { } reduced)
        {
            // The reference computes on exactly the values the reduced kernel receives.
            Tensor Rounded(Tensor t) => t.to(reduced).to(ScalarType.Float64);
            (x, w, b, upstream) = (Rounded(x), Rounded(w), b is null ? null : Rounded(b), Rounded(upstream));
        }

        var expected = Run(ConvRoute.Im2col, shape, x, w, b, upstream);
        var type = computeType ?? ScalarType.Float32;
        Tensor Single(Tensor t) => format == MemoryFormat.ChannelsLast ? ChannelsLast.Copy(t.to(type)) : t.to(type);
        var actual = Run(route, shape, Single(x), Single(w), b?.to(type), Single(upstream));
        return new ConvError(
            RelativeError(actual.Output, expected.Output),
            RelativeError(actual.InputGrad, expected.InputGrad),
            RelativeError(actual.WeightGrad, expected.WeightGrad),
            b is null ? 0 : RelativeError(actual.BiasGrad!, expected.BiasGrad!));
    }

    private sealed record Result(Tensor Output, Tensor InputGrad, Tensor WeightGrad, Tensor? BiasGrad);

    private static Result Run(ConvRoute route, ConvShape shape, Tensor x, Tensor w, Tensor? b, Tensor upstream)
    {
        x = x.detach().requires_grad_();
        w = w.detach().requires_grad_();
        b = b?.detach().requires_grad_();
        var y = ConvRoutes.Apply(route, x, w, b, shape.Stride, shape.Padding);
        y.backward([upstream]);
        return new Result(y.detach(), x.grad!, w.grad!, b?.grad);
    }

    private static double RelativeError(Tensor actual, Tensor expected)
    {
        var a = actual.to(ScalarType.Float64);
        if (!a.isfinite().all().item<bool>()) return double.PositiveInfinity;
        double scale = expected.abs().max().item<double>();
        return a.sub(expected).abs().max().item<double>() / Math.Max(scale, 1e-30);
    }
}

using Aavae.Runtime;
using System.Globalization;
using static TorchSharp.torch;

namespace Aavae.Kernels;

/// <summary>
/// One convolution call as libtorch will run it: the layer's shape, the batch and the input's size,
/// the layout, the type it computes in, and whether gradients flow back through it. oneDNN chooses
/// its implementation from all of these (instruction set, layout and minibatch included), so a
/// kernel that is right for one batch size can crash or hang at another: a problem is the unit the
/// guard runs before the real call does.
/// </summary>
public sealed record ConvProblem(ConvShape Shape, long Batch, long Height, long Width, MemoryFormat Format, ScalarType? ComputeType, bool Backward)
{
    /// <summary>The problem a layer of <paramref name="shape"/> runs on <paramref name="input"/>.</summary>
    public static ConvProblem Of(ConvShape shape, Tensor input, MemoryFormat format, ScalarType? computeType, bool backward) =>
        new(shape, input.shape[0], input.shape[2], input.shape[3], format, computeType, backward);

    /// <summary>Multiply-adds of the forward pass; the backward pass costs about twice as many.</summary>
    public double MultiplyAdds =>
        (double)Batch * Shape.OutChannels * Shape.InChannels * Shape.Kernel * Shape.Kernel
        * Shape.OutputSize(Height) * ((Width + 2 * Shape.Padding - Shape.Kernel) / Shape.Stride + 1);

    /// <summary>One line, the form in which the guard hands a problem to its trial process.</summary>
    public string ToLine() => string.Join(' ',
        Shape.InChannels, Shape.OutChannels, Shape.Kernel, Shape.Stride, Shape.Padding, Shape.Bias ? 1 : 0,
        Batch, Height, Width, Format.Name(), ComputeType?.ToString() ?? "Float32", Backward ? "backward" : "forward");

    public static ConvProblem Parse(string line)
    {
        var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (f.Length != 12) throw new FormatException($"a convolution problem has 12 fields, not {f.Length}: {line}");
        long L(int i) => long.Parse(f[i], CultureInfo.InvariantCulture);
        var shape = new ConvShape(L(0), L(1), L(2), L(3), L(4), f[5] == "1");
        var format = f[9] == MemoryFormat.ChannelsLast.Name() ? MemoryFormat.ChannelsLast : MemoryFormat.Contiguous;
        var type = Enum.Parse<ScalarType>(f[10]);
        return new ConvProblem(shape, L(6), L(7), L(8), format, type == ScalarType.Float32 ? null : type, f[11] == "backward");
    }

    public override string ToString() =>
        $"{Shape} on {Batch}x{Shape.InChannels}x{Height}x{Width} {Format.Name()} {(ComputeType is { } t ? t.ToString().ToLowerInvariant() : "float32")}{(Backward ? " with backward" : ", forward only")}";
}

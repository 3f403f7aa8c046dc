using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Aavae.Kernels;

/// <summary>
/// A square-kernel Conv2d (TorchSharp's own initialisation and state_dict names <c>weight</c>,
/// <c>bias</c>) whose computation can be rerouted when libtorch's kernel for its shape is wrong on
/// this CPU. <see cref="KernelGuard.Protect"/> sets <see cref="Route"/>; until then it is libtorch's own.
/// </summary>
public sealed class GuardedConv2d : Convolution
{
    private GuardedConv2d(long inChannels, long outChannels, long kernel, long stride, long padding, bool bias)
        : base("Conv2d", inChannels, outChannels, [kernel, kernel], [stride, stride], [padding, padding], null, [1, 1],
            transposed: false, output_padding: [0, 0], groups: 1, bias, PaddingModes.Zeros)
    {
        Shape = new ConvShape(inChannels, outChannels, kernel, stride, padding, bias);
    }

    public static GuardedConv2d Create(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, bool bias = true) =>
        new(inChannels, outChannels, kernelSize, stride, padding, bias);

    public ConvShape Shape { get; }

    public ConvRoute Route { get; set; } = ConvRoute.Native;

    /// <summary>
    /// The type the convolution computes in under mixed precision (bfloat16), its float32 weight and
    /// input cast on the way in; null: the weight's own type. The output stays in the compute type,
    /// as under PyTorch's autocast, so the next layers read half the bytes.
    /// </summary>
    public ScalarType? ComputeType { get; set; }

    public override Tensor forward(Tensor input)
    {
        if (ComputeType is not { } type || type == weight!.dtype)
            return ConvRoutes.Apply(Route, input, weight, bias, Shape.Stride, Shape.Padding);
        using var scope = NewDisposeScope();
        return ConvRoutes.Apply(Route, input.to(type), weight.to(type), bias?.to(type), Shape.Stride, Shape.Padding).MoveToOuterDisposeScope();
    }
}

using Aavae.Runtime;
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
        declared = new ConvShape(inChannels, outChannels, kernel, stride, padding, bias);
    }

    private readonly ConvShape declared;
    private Func<(Tensor Weight, Tensor Bias)>? folded;

    public static GuardedConv2d Create(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, bool bias = true) =>
        new(inChannels, outChannels, kernelSize, stride, padding, bias);

    /// <summary>The shape computed in eval mode: with a bias once a BatchNorm is folded in (the guard checks that kernel).</summary>
    public ConvShape Shape => folded is null ? declared : declared with { Bias = true };

    public ConvRoute Route { get; set; } = ConvRoute.Native;

    /// <summary>
    /// Set by <see cref="KernelGuard.Protect"/> where a trial process can run problems: the route for
    /// each call, from the problem it is (batch, size, layout, type, backward or not), which the guard
    /// has run once at its real size in that process before this layer runs it here.
    /// </summary>
    internal Func<ConvProblem, ConvRoute>? Router { get; set; }

    /// <summary>
    /// The type the convolution computes in under mixed precision (bfloat16), its float32 weight and
    /// input cast on the way in; null: the weight's own type. The output stays in the compute type,
    /// as under PyTorch's autocast, so the next layers read half the bytes.
    /// </summary>
    public ScalarType? ComputeType { get; set; }

    /// <summary>
    /// In eval mode, computes with the weight and bias <paramref name="fold"/> gives: the BatchNorm
    /// after this layer folded in (<see cref="Models.BatchNormFolding"/>). They are made again at each
    /// call, from the parameters as they are then, so a fold never goes stale; the parameters, the
    /// state_dict and training mode stay as they were.
    /// </summary>
    public void UseFolded(Func<(Tensor Weight, Tensor Bias)> fold) => folded = fold;

    public override Tensor forward(Tensor input)
    {
        if (training || folded is null) return Compute(input, weight!, bias);
        using var scope = NewDisposeScope();
        var (w, b) = folded();
        return Compute(input, w, b).MoveToOuterDisposeScope();
    }

    private Tensor Compute(Tensor input, Tensor w, Tensor? b)
    {
        var route = RouteFor(input, w);
        if (ComputeType is not { } type || type == w.dtype)
            return ConvRoutes.Apply(route, input, w, b, declared.Stride, declared.Padding);
        using var scope = NewDisposeScope();
        return ConvRoutes.Apply(route, input.to(type), w.to(type), b?.to(type), declared.Stride, declared.Padding).MoveToOuterDisposeScope();
    }

    private ConvRoute RouteFor(Tensor input, Tensor w)
    {
        if (Router is not { } router || input.ndim != 4) return Route;
        // libtorch computes in channels-last when either operand is (at::mkldnn_conv_suggest_memory_format).
        var format = ChannelsLast.Is(w) || ChannelsLast.Is(input) ? MemoryFormat.ChannelsLast : MemoryFormat.Contiguous;
        bool backward = is_grad_enabled() && (input.requires_grad || w.requires_grad);
        return router(ConvProblem.Of(Shape, input, format, ComputeType, backward));
    }
}

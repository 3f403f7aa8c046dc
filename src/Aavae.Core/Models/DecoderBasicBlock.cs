using Aavae.Kernels;
using Aavae.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Aavae.Models;

/// <summary>
/// Decoder block mirroring <see cref="BasicBlock"/>: optional upscale, two 3x3 convs with bias,
/// no BatchNorm. The skip path <c>upsample</c> repeats the upscale and adapts channels.
/// </summary>
public sealed class DecoderBasicBlock : Module<Tensor, Tensor>
{
    public const int Expansion = 1;

    private readonly GuardedConv2d conv1;
    private readonly GuardedConv2d conv2;
    private readonly Sequential? upsample;
    private readonly Interpolate? upscale;

    public DecoderBasicBlock(long inplanes, long planes, Sequential? upsample, Interpolate? upscale) : base(nameof(DecoderBasicBlock))
    {
        conv1 = GuardedConv2d.Create(inplanes, planes, kernelSize: 3, padding: 1);
        conv2 = GuardedConv2d.Create(planes, planes, kernelSize: 3, padding: 1);
        this.upsample = upsample;
        this.upscale = upscale;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        // Intermediates' handles die here; autograd keeps what backward needs and frees it as it goes.
        using var scope = NewDisposeScope();
        var out_ = upscale is null ? x : upscale.call(x);
        out_ = conv1.call(out_).relu_();
        out_ = conv2.call(out_);
        var identity = upsample is null ? x : upsample.call(x);
        return out_.add_(identity, Scalars.One).relu_().MoveToOuterDisposeScope();
    }
}

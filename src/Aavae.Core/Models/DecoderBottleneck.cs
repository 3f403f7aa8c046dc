using Aavae.Kernels;
using Aavae.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Aavae.Models;

/// <summary>
/// Decoder block mirroring <see cref="Bottleneck"/>: 1x1, upscale, 3x3, 1x1 expand by 4,
/// convs with bias and no BatchNorm.
/// </summary>
public sealed class DecoderBottleneck : Module<Tensor, Tensor>
{
    public const int Expansion = 4;

    private readonly GuardedConv2d conv1;
    private readonly GuardedConv2d conv2;
    private readonly GuardedConv2d conv3;
    private readonly Sequential? upsample;
    private readonly Interpolate? upscale;

    public DecoderBottleneck(long inplanes, long planes, Sequential? upsample, Interpolate? upscale) : base(nameof(DecoderBottleneck))
    {
        conv1 = GuardedConv2d.Create(inplanes, planes, kernelSize: 1);
        conv2 = GuardedConv2d.Create(planes, planes, kernelSize: 3, padding: 1);
        conv3 = GuardedConv2d.Create(planes, planes * Expansion, kernelSize: 1);
        this.upsample = upsample;
        this.upscale = upscale;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        // Intermediates' handles die here; autograd keeps what backward needs and frees it as it goes.
        using var scope = NewDisposeScope();
        var out_ = conv1.call(x).relu_();
        if (upscale is not null) out_ = upscale.call(out_);
        out_ = conv2.call(out_).relu_();
        out_ = conv3.call(out_);
        var identity = upsample is null ? x : upsample.call(x);
        return out_.add_(identity, Scalars.One).relu_().MoveToOuterDisposeScope();
    }
}

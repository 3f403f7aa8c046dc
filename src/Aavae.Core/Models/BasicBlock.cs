using Aavae.Kernels;
using Aavae.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Aavae.Models;

// Field names are the reference's state_dict names (encoder.layer1.0.conv1.weight, ...).
/// <summary>Encoder residual block of ResNet-18/34: two 3x3 convs with BatchNorm, expansion 1.</summary>
public sealed class BasicBlock : Module<Tensor, Tensor>
{
    public const int Expansion = 1;

    private readonly GuardedConv2d conv1;
    private readonly BatchNormNd bn1;
    private readonly GuardedConv2d conv2;
    private readonly BatchNormNd bn2;
    private readonly Sequential? downsample;

    public BasicBlock(long inplanes, long planes, long stride, Sequential? downsample) : base(nameof(BasicBlock))
    {
        conv1 = GuardedConv2d.Create(inplanes, planes, kernelSize: 3, stride: stride, padding: 1, bias: false);
        bn1 = BatchNormNd.TwoD(planes);
        conv2 = GuardedConv2d.Create(planes, planes, kernelSize: 3, stride: 1, padding: 1, bias: false);
        bn2 = BatchNormNd.TwoD(planes);
        this.downsample = downsample;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        // Intermediates' handles die here; autograd keeps what backward needs and frees it as it goes.
        using var scope = NewDisposeScope();
        var out_ = bn1.call(conv1.call(x)).relu_();
        out_ = bn2.call(conv2.call(out_));
        var identity = downsample is null ? x : downsample.call(x);
        return out_.add_(identity, Scalars.One).relu_().MoveToOuterDisposeScope();
    }
}

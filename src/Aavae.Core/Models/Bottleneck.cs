using Aavae.Kernels;
using Aavae.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Aavae.Models;

/// <summary>
/// Encoder residual block of ResNet-50: 1x1 reduce, 3x3 (carrying the stride, "ResNet v1.5"),
/// 1x1 expand by 4, each followed by BatchNorm.
/// </summary>
public sealed class Bottleneck : Module<Tensor, Tensor>
{
    public const int Expansion = 4;

    private readonly GuardedConv2d conv1;
    private readonly BatchNormNd bn1;
    private readonly GuardedConv2d conv2;
    private readonly BatchNormNd bn2;
    private readonly GuardedConv2d conv3;
    private readonly BatchNormNd bn3;
    private readonly Sequential? downsample;

    public Bottleneck(long inplanes, long planes, long stride, Sequential? downsample) : base(nameof(Bottleneck))
    {
        conv1 = GuardedConv2d.Create(inplanes, planes, kernelSize: 1, bias: false);
        bn1 = BatchNormNd.TwoD(planes);
        conv2 = GuardedConv2d.Create(planes, planes, kernelSize: 3, stride: stride, padding: 1, bias: false);
        bn2 = BatchNormNd.TwoD(planes);
        conv3 = GuardedConv2d.Create(planes, planes * Expansion, kernelSize: 1, bias: false);
        bn3 = BatchNormNd.TwoD(planes * Expansion);
        this.downsample = downsample;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        // Intermediates' handles die here; autograd keeps what backward needs and frees it as it goes.
        using var scope = NewDisposeScope();
        var out_ = bn1.call(conv1.call(x)).relu_();
        out_ = bn2.call(conv2.call(out_)).relu_();
        out_ = bn3.call(conv3.call(out_));
        var identity = downsample is null ? x : downsample.call(x);
        return out_.add_(identity, Scalars.One).relu_().MoveToOuterDisposeScope();
    }
}

using Aavae.Kernels;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Aavae.Models;

/// <summary>
/// The ResNet encoder of the reference (after SwAV's resnet50.py): stem, four stages, global
/// average pool. Returns the pooled features h that linear evaluation judges.
/// </summary>
public sealed class ResNetEncoder : Module<Tensor, Tensor>
{
    private readonly GuardedConv2d conv1;
    private readonly BatchNormNd bn1;
    private readonly Module<Tensor, Tensor> maxpool;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;

    public EncoderSpec Spec { get; }
    public Stem Stem { get; }
    public int Width { get; }

    /// <summary>Size of the pooled feature vector.</summary>
    public int FeatureDim => Spec.FeatureDim(Width);

    /// <param name="width">Channels of the stem; 64 in the reference. Smaller values give the same
    /// architecture narrower, for CPUs.</param>
    public ResNetEncoder(EncoderSpec spec, Stem stem, int width = 64) : base(spec.Name)
    {
        ModelOptions.CheckWidth(width);
        Spec = spec;
        Stem = stem;
        Width = width;

        long planes = (long)width * spec.Widen;
        conv1 = stem.FirstConv3x3()
            ? GuardedConv2d.Create(3, planes, kernelSize: 3, stride: 1, padding: 1, bias: false)
            : GuardedConv2d.Create(3, planes, kernelSize: 7, stride: 2, padding: 3, bias: false);
        bn1 = BatchNormNd.TwoD(planes);
        maxpool = stem.RemoveFirstMaxPool() ? Identity() : MaxPool2d(kernel_size: 3, stride: 2, padding: 1);

        long inplanes = planes;
        layer1 = MakeLayer(ref inplanes, planes, spec.Layers[0], stride: 1);
        layer2 = MakeLayer(ref inplanes, planes * 2, spec.Layers[1], stride: 2);
        layer3 = MakeLayer(ref inplanes, planes * 4, spec.Layers[2], stride: 2);
        layer4 = MakeLayer(ref inplanes, planes * 8, spec.Layers[3], stride: 2);
        RegisterComponents();
        Initialise();
    }

    private Sequential MakeLayer(ref long inplanes, long planes, int blocks, long stride)
    {
        long outplanes = planes * Spec.Expansion;
        Sequential? downsample = null;
        if (stride != 1 || inplanes != outplanes)
            downsample = Sequential(
                GuardedConv2d.Create(inplanes, outplanes, kernelSize: 1, stride: stride, bias: false),
                BatchNormNd.TwoD(outplanes));

        var modules = new List<Module<Tensor, Tensor>> { Block(inplanes, planes, stride, downsample) };
        inplanes = outplanes;
        for (int i = 1; i < blocks; i++) modules.Add(Block(inplanes, planes, 1, null));
        return Sequential(modules);
    }

    private Module<Tensor, Tensor> Block(long inplanes, long planes, long stride, Sequential? downsample) =>
        Spec.Block == BlockKind.Basic
            ? new BasicBlock(inplanes, planes, stride, downsample)
            : new Bottleneck(inplanes, planes, stride, downsample);

    // Kaiming-normal (fan_out, relu) convs and unit BatchNorm, as torchvision's ResNet.
    private void Initialise()
    {
        using var _ = no_grad();
        foreach (var module in modules())
        {
            switch (module)
            {
                case GuardedConv2d conv:
                    init.kaiming_normal_(conv.weight, mode: init.FanInOut.FanOut, nonlinearity: init.NonlinearityType.ReLU);
                    break;
                case BatchNormNd bn:
                    init.ones_(bn.weight);
                    init.zeros_(bn.bias);
                    break;
            }
        }
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = Next(x, conv1, ownsInput: false);
        h = Next(h, bn1).relu_();
        h = Next(h, maxpool);
        foreach (var layer in new[] { layer1, layer2, layer3, layer4 })
            foreach (var block in layer.children().Cast<Module<Tensor, Tensor>>())
                h = Next(h, block);
        // Under mixed precision the stages run in bfloat16; the features leave in the parameters' type.
        return functional.adaptive_avg_pool2d(h, [1, 1]).flatten(1).to(bn1.weight!.dtype).MoveToOuterDisposeScope();
    }

    // Drops the input's handle once the next stage has its output. Without gradients that frees
    // the activation at once, so evaluation holds two activations rather than the whole pyramid
    // until the pool; in training autograd keeps what backward needs.
    private static Tensor Next(Tensor input, Module<Tensor, Tensor> stage, bool ownsInput = true)
    {
        var output = stage.call(input);
        if (ownsInput && !ReferenceEquals(output, input)) input.Dispose();
        return output;
    }
}

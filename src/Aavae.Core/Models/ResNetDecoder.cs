using Aavae.Kernels;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Aavae.Models;

/// <summary>
/// The reference's decoder: a ResNet run backwards without BatchNorm. A latent z is lifted to
/// h features, reshaped to (h/16, 4, 4), resized to input/f and upsampled x2 per stage back to
/// the input size. It predicts normalised pixels, so there is no output activation.
/// </summary>
public sealed class ResNetDecoder : Module<Tensor, Tensor>
{
    private readonly Linear linear_projection1;
    private readonly Linear linear_projection2;
    private readonly GuardedConv2d conv1;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;
    private readonly GuardedConv2d conv2;
    private readonly GuardedConv2d final_conv;

    private readonly long hDim;

    public DecoderSpec Spec { get; }
    public Stem Stem { get; }
    public int InputHeight { get; }

    /// <param name="hDim">Feature size of the paired encoder; must be a multiple of 16.</param>
    /// <param name="width">Base width; 64 in the reference (stage planes 256, 128, 64, 32 and a 64-channel conv2).</param>
    public ResNetDecoder(DecoderSpec spec, Stem stem, int inputHeight, int latentDim, int hDim, int width = 64) : base(spec.Name)
    {
        if (latentDim < 1) throw new ArgumentException($"latent dim must be >= 1, got {latentDim}");
        if (hDim < 16 || hDim % 16 != 0) throw new ArgumentException($"decoder h_dim must be a positive multiple of 16, got {hDim}");
        stem.CheckInputSize(inputHeight);
        int f = stem.UpscaleFactor();
        ModelOptions.CheckWidth(width);

        Spec = spec;
        Stem = stem;
        InputHeight = inputHeight;
        this.hDim = hDim;

        linear_projection1 = Linear(latentDim, hDim);
        linear_projection2 = Linear(hDim, hDim);
        conv1 = GuardedConv2d.Create(hDim / 16, hDim, kernelSize: 1);

        long planes = 8L * width * spec.Widen; // 512 * widen in the reference, halved before each stage
        long inplanes = hDim;
        layer1 = MakeLayer(ref inplanes, planes / 2, spec.Layers[0], () => new Interpolate(inputHeight / f));
        layer2 = MakeLayer(ref inplanes, planes / 4, spec.Layers[1], () => new Interpolate());
        layer3 = MakeLayer(ref inplanes, planes / 8, spec.Layers[2], () => new Interpolate());
        layer4 = MakeLayer(ref inplanes, planes / 16, spec.Layers[3], () => new Interpolate());

        conv2 = GuardedConv2d.Create(inplanes, width, kernelSize: 3, padding: 1);
        final_conv = GuardedConv2d.Create(width, 3, kernelSize: 3, padding: 1);
        RegisterComponents();
    }

    private Sequential MakeLayer(ref long inplanes, long planes, int blocks, Func<Interpolate> upscale)
    {
        long outplanes = planes * Spec.Expansion;
        // Every stage resizes, so its first block always has a skip path: resize, then 1x1 conv.
        var upsample = Sequential(upscale(), GuardedConv2d.Create(inplanes, outplanes, kernelSize: 1));
        var modules = new List<Module<Tensor, Tensor>> { Block(inplanes, planes, upsample, upscale()) };
        inplanes = outplanes;
        for (int i = 1; i < blocks; i++) modules.Add(Block(inplanes, planes, null, null));
        return Sequential(modules);
    }

    private Module<Tensor, Tensor> Block(long inplanes, long planes, Sequential? upsample, Interpolate? upscale) =>
        Spec.Block == BlockKind.Basic
            ? new DecoderBasicBlock(inplanes, planes, upsample, upscale)
            : new DecoderBottleneck(inplanes, planes, upsample, upscale);

    public override Tensor forward(Tensor z)
    {
        using var scope = NewDisposeScope();
        var x = linear_projection1.call(z).relu_();
        x = linear_projection2.call(x).relu_();
        x = x.view(x.shape[0], hDim / 16, 4, 4);
        x = conv1.call(x).relu_();

        x = layer4.call(layer3.call(layer2.call(layer1.call(x))));

        if (!Stem.RemoveFirstMaxPool()) x = functional.interpolate(x, scale_factor: [2.0, 2.0]);
        x = conv2.call(x).relu_();
        if (!Stem.FirstConv3x3()) x = functional.interpolate(x, scale_factor: [2.0, 2.0]);
        // Under mixed precision the convolutions hand back bfloat16; the objective reads the parameters' type.
        return final_conv.call(x).to(linear_projection1.weight!.dtype).MoveToOuterDisposeScope();
    }
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Aavae.Models;

#pragma warning disable IDE1006

/// <summary>
/// The networks of AAVAE and of its VAE and AE baselines, under the reference's state_dict
/// names: <c>encoder.*</c>, <c>projection.*</c>, <c>decoder.*</c> and, for the VAEs, the scalar
/// <c>log_scale</c>. Objectives live in <c>Aavae.Objectives</c>; this class only holds weights.
/// </summary>
public sealed class AavaeModel : Module
{
    private readonly ResNetEncoder encoder;
    private readonly Module projection;
    private readonly ResNetDecoder decoder;
    /// <summary>Log-variance of the Gaussian p(x|z); a one-element tensor as in the reference.</summary>
    private readonly Parameter? log_scale;

    public ModelOptions Options { get; }

    public AavaeModel(ModelOptions options) : base("AAVAE")
    {
        options.Validate();
        Options = options;
        encoder = new ResNetEncoder(options.EncoderSpec, options.Stem, options.Width);
        int h = encoder.FeatureDim;
        projection = options.Kind == ModelKind.Ae
            ? new ProjectionHeadAE(h, h, options.LatentDim)
            : new ProjectionHeadVAE(h, h, options.LatentDim);
        decoder = new ResNetDecoder(options.DecoderSpec, options.Stem, options.InputHeight, options.LatentDim, h, options.Width);
        if (options.Kind != ModelKind.Ae)
            log_scale = new Parameter(tensor(new[] { (float)options.LogScale }), requires_grad: options.LearnScale);
        RegisterComponents();
    }

    public ResNetEncoder Encoder => encoder;

    public ResNetDecoder Decoder => decoder;

    /// <summary>The VAE head; throws for the AE baseline.</summary>
    public ProjectionHeadVAE VaeHead => projection as ProjectionHeadVAE
        ?? throw new InvalidOperationException("the AE baseline has no VAE projection head");

    /// <summary>The AE head; throws for the VAE models.</summary>
    public ProjectionHeadAE AeHead => projection as ProjectionHeadAE
        ?? throw new InvalidOperationException("the VAE models have no AE projection head");

    public Parameter LogScale => log_scale
        ?? throw new InvalidOperationException("the AE baseline has no log_scale");
}

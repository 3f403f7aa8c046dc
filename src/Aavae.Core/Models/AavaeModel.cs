using Aavae.Objectives;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Aavae.Models;

/// <summary>
/// AAVAE and its VAE and AE baselines, under the reference's state_dict names: <c>encoder.*</c>,
/// <c>projection.*</c>, <c>decoder.*</c> and, for the VAEs, the scalar <c>log_scale</c>.
/// <see cref="forward(Tensor, Tensor, int, bool)"/> is the reference's step(): the original image's latent as a fixed
/// target, the augmented view's latent, then the objective (sampling, decoding, the loss).
/// </summary>
public sealed class AavaeModel : Module, IDecoder
{
    private readonly ResNetEncoder encoder;
    private readonly Module projection;
    private readonly ResNetDecoder decoder;
    /// <summary>Log-variance of the Gaussian p(x|z); a one-element tensor as in the reference.</summary>
    private readonly Parameter? log_scale;
    private readonly IObjective objective;

    /// <param name="objective">Null: the kind's own (<see cref="DefaultObjective"/>).</param>
    public AavaeModel(ModelOptions options, IObjective? objective = null) : base("AAVAE")
    {
        options.Validate();
        Options = options;
        this.objective = objective ?? DefaultObjective(options.Kind);
        encoder = new ResNetEncoder(options.EncoderSpec, options.Stem, options.Width);
        int h = encoder.FeatureDim;
        projection = options.Kind == ModelKind.Ae
            ? new ProjectionHeadAE(h, h, options.LatentDim)
            : new ProjectionHeadVAE(h, h, options.LatentDim);
        decoder = new ResNetDecoder(options.DecoderSpec, options.Stem, options.InputHeight, options.LatentDim, h, options.DecoderBaseWidth);
        if (options.Kind != ModelKind.Ae)
            log_scale = new Parameter(tensor(new[] { (float)options.LogScale }), requires_grad: options.LearnScale);
        RegisterComponents();
    }

    /// <summary>The paper's set-ups: AAVAE without a KL term (its augmentations regularise instead), the VAE with kl_coeff 0.1, the AE with MSE.</summary>
    public static IObjective DefaultObjective(ModelKind kind) =>
        ObjectiveFor(kind, kind == ModelKind.Vae ? VaeObjective.ReferenceKlCoeff : 0);

    /// <summary>The VAE objective with <paramref name="klCoeff"/> for AAVAE and the VAE; the AE's MSE, which has no KL term.</summary>
    public static IObjective ObjectiveFor(ModelKind kind, double klCoeff) =>
        kind == ModelKind.Ae ? new AeObjective() : new VaeObjective(klCoeff);

    public ModelOptions Options { get; }

    public ResNetEncoder Encoder => encoder;

    public ResNetDecoder Decoder => decoder;

    /// <summary>The decoder's log-variance; null for the AE.</summary>
    public Parameter? LogScale => log_scale;

    /// <summary>One pass of the reference's step(): loss and metrics of a view <paramref name="x"/> that must reconstruct <paramref name="original"/>.</summary>
    /// <param name="samples">Posterior samples per image: 1 in training, val_samples in validation.</param>
    /// <param name="encodeOriginal">Whether to encode the original too, for the metrics comparing the two latents (the loss does not use it).</param>
    public ObjectiveOutput forward(Tensor x, Tensor original, int samples = 1, bool encodeOriginal = true) => forward(x, original, samples, objective, encodeOriginal);

    /// <summary>The same pass under another objective (e.g. another kl_coeff, or fixed noise in tests).</summary>
    public ObjectiveOutput forward(Tensor x, Tensor original, int samples, IObjective objective, bool encodeOriginal = true)
    {
        // The original image's latent is a fixed target: no gradient flows into it. It runs first,
        // as in the reference, so that BatchNorm's running statistics see the same order.
        Latent? target = null;
        if (encodeOriginal)
            using (no_grad()) target = Encode(original);
        var posterior = Encode(x);
        return objective.Compute(new ObjectiveInput(posterior, target, x, original, samples), this);
    }

    /// <summary>The latent of <paramref name="x"/>: encoder, then projection head.</summary>
    public Latent Encode(Tensor x)
    {
        var h = encoder.call(x);
        if (projection is ProjectionHeadAE ae) return new Latent(ae.call(h));
        var (mu, logvar) = ((ProjectionHeadVAE)projection).call(h);
        return Latent.Gaussian(mu, logvar);
    }

    Tensor IDecoder.Decode(Tensor z) => decoder.call(z);

    Tensor? IDecoder.LogScale => log_scale;

    /// <summary>The decoder's picture of <paramref name="x"/> from its latent's mean: what the reconstruction grids show.</summary>
    public Tensor Reconstruct(Tensor x) => decoder.call(Encode(x).Mean);
}

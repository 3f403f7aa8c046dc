using Aavae.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Aavae.Objectives;

/// <summary>
/// The AAVAE / VAE objective of the reference's VAE.step (src/vae.py): per posterior sample,
/// kl_coeff * KL(q(z|x) || p(z)) - log p(original | z). The encoder saw the view <c>x</c>; the
/// decoder must reconstruct <c>original</c>. With kl_coeff = 0 and denoising views this is AAVAE;
/// with x == original and kl_coeff &gt; 0 it is the VAE baseline.
/// </summary>
/// <param name="noise">Draws the standard-normal noise of each reparameterised sample, shaped like
/// its argument; libtorch's global generator by default. Tests pass fixed noise to compare a step
/// with PyTorch's.</param>
public sealed class VaeObjective(double klCoeff, Func<Tensor, Tensor>? noise = null) : IObjective
{
    /// <summary>The VAE baseline's weight of the KL term: vae.py's argparse default.</summary>
    public const double ReferenceKlCoeff = 0.1;

    public double KlCoeff { get; } = klCoeff >= 0 ? klCoeff : throw new ArgumentException($"kl_coeff must be >= 0, got {klCoeff}");

    private readonly Func<Tensor, Tensor> noise = noise ?? (like => randn_like(like));

    public ObjectiveOutput Compute(ObjectiveInput input, IDecoder decoder)
    {
        var (posterior, target, x, original, samples) = input;
        var logScale = decoder.LogScale;
        if (samples < 1) throw new ArgumentException($"samples must be >= 1, got {samples}");
        if (logScale is null) throw new ArgumentException("the VAE objective needs the decoder's log_scale");
        long pixels = x.shape[1] * x.shape[2] * x.shape[3];
        using var klCoeff = KlCoeff.ToScalar();
        using var logSamples = Math.Log(samples).ToScalar();
        using var bitsPerNat = (pixels * Math.Log(2)).ToScalar();

        var (mu, std) = (posterior.Mean, posterior.RequireStd());
        var (muOrig, stdOrig) = (target?.Mean, target?.RequireStd());
        var pixelStd = Gaussian.StdFromLogVar(logScale);

        var logPz = new List<Tensor>();
        var logQz = new List<Tensor>();
        var logPxz = new List<Tensor>();
        var kls = new List<Tensor>();
        var losses = new List<Tensor>();
        var cosSims = new List<Tensor>();
        var klAugs = new List<Tensor>();
        for (int s = 0; s < samples; s++)
        {
            var z = Gaussian.Sample(mu, std, noise(mu));
            var kl = Gaussian.KlToStandardNormal(mu, std).sum(-1);
            logPz.Add(Gaussian.LogProb(z, zeros_like(z), ones_like(z)).sum(-1));
            logQz.Add(Gaussian.LogProb(z, mu, std).sum(-1));

            if (muOrig is not null && stdOrig is not null)
                using (no_grad())
                {
                    var zOrig = Gaussian.Sample(muOrig, stdOrig, noise(muOrig));
                    cosSims.Add(F.cosine_similarity(zOrig, z, dim: 1, eps: 1e-6));
                    // How far the augmented posterior sits from the original's: the quantity AAVAE's
                    // augmentations regularise in place of the KL to the prior.
                    klAugs.Add(Gaussian.Kl(mu, std, muOrig, stdOrig).sum(-1));
                }

            var xHat = decoder.Decode(z);
            var lp = Gaussian.LogProb(original, xHat, pixelStd).sum([1, 2, 3]);
            logPxz.Add(lp);
            kls.Add(kl);
            losses.Add(kl.mul(klCoeff).sub(lp));
        }

        var logPzS = stack(logPz, 1);
        var logQzS = stack(logQz, 1);
        var logPxzS = stack(logPxz, 1);
        var klS = stack(kls, 1);
        var loss = stack(losses, 1).mean();

        using var _ = no_grad();
        // Importance-weighted estimate of log p(x) with the posterior as proposal; bits per dimension in float64.
        var logPx = logPxzS.Plus(logPzS).sub(logQzS).logsumexp(1).mean().sub(logSamples);
        var metrics = new Dictionary<string, Tensor>
        {
            ["kl"] = klS.mean(),
            ["elbo"] = (klS - logPxzS).mean(),
            ["loss"] = loss.detach(),
            ["bpd"] = logPx.to_type(ScalarType.Float64).neg().div(bitsPerNat),
        };
        if (cosSims.Count > 0)
        {
            metrics["cos_sim"] = stack(cosSims, 1).mean();
            metrics["kl_augmentation"] = stack(klAugs, 1).mean();
        }
        metrics["log_pxz"] = logPxzS.mean();
        metrics["log_pz"] = logPzS.mean();
        metrics["log_px"] = logPx;
        metrics["log_scale"] = logScale.detach().reshape(-1)[0];
        return new ObjectiveOutput(loss, metrics);
    }
}

using Aavae.Runtime;
using Aavae.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Aavae.Objectives;

/// <summary>Loss tensor to back-propagate, and the step's metrics.</summary>
public sealed record VaeStep(Tensor Loss, VaeMetrics Metrics);

/// <summary>
/// One step of the AAVAE / VAE objective (the reference's VAE.step, src/vae.py). The encoder sees the view <c>x</c>;
/// the decoder must reconstruct <c>original</c>. With kl_coeff = 0 and denoising views this is
/// AAVAE; with x == original and kl_coeff &gt; 0 it is the VAE baseline.
/// </summary>
/// <param name="noise">Draws the standard-normal noise of each reparameterised sample, shaped like
/// its argument; libtorch's global generator by default. Tests pass fixed noise to compare a step
/// with PyTorch's.</param>
public sealed class VaeObjective(double klCoeff, Func<Tensor, Tensor>? noise = null)
{
    public double KlCoeff { get; } = klCoeff >= 0 ? klCoeff : throw new ArgumentException($"kl_coeff must be >= 0, got {klCoeff}");

    private readonly Func<Tensor, Tensor> noise = noise ?? (like => randn_like(like));

    /// <param name="samples">Posterior samples per image: 1 in training, val_samples in validation.</param>
    public VaeStep Step(AavaeModel model, Tensor x, Tensor original, int samples = 1)
    {
        if (samples < 1) throw new ArgumentException($"samples must be >= 1, got {samples}");
        var head = model.VaeHead;
        long pixels = x.shape[1] * x.shape[2] * x.shape[3];
        using var klCoeff = KlCoeff.ToScalar();
        using var logSamples = Math.Log(samples).ToScalar();

        // The posterior of the un-augmented image is a fixed target: no gradient flows into it.
        // Run first, as the reference does, so BatchNorm statistics see the same order.
        Tensor muOrig, stdOrig;
        using (no_grad())
        {
            var (mu_o, logvar_o) = head.call(model.Encoder.call(original));
            muOrig = mu_o;
            stdOrig = Gaussian.StdFromLogVar(logvar_o);
        }

        var (mu, logvar) = head.call(model.Encoder.call(x));
        var std = Gaussian.StdFromLogVar(logvar);
        var pixelStd = Gaussian.StdFromLogVar(model.LogScale);

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

            using (no_grad())
            {
                var zOrig = Gaussian.Sample(muOrig, stdOrig, noise(muOrig));
                cosSims.Add(F.cosine_similarity(zOrig, z, dim: 1, eps: 1e-6));
            }
            // How far the augmented posterior sits from the original's: the quantity AAVAE's
            // augmentations regularise in place of the KL to the prior.
            klAugs.Add(Gaussian.Kl(mu, std, muOrig, stdOrig).sum(-1));

            var xHat = model.Decoder.call(z);
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
        var elbo = (klS - logPxzS).mean();

        // Importance-weighted estimate of log p(x) with the posterior as proposal.
        var logPx = logPxzS.Plus(logPzS).sub(logQzS).logsumexp(1).mean().sub(logSamples);
        double logPxValue = Read(logPx);

        var metrics = new VaeMetrics(
            Kl: Read(klS.mean()),
            Elbo: Read(elbo),
            Loss: Read(loss),
            Bpd: -logPxValue / (pixels * Math.Log(2)),
            CosSim: Read(stack(cosSims, 1).mean()),
            KlAugmentation: Read(stack(klAugs, 1).mean()),
            LogPxz: Read(logPxzS.mean()),
            LogPz: Read(logPzS.mean()),
            LogPx: logPxValue,
            LogScale: Read(model.LogScale));
        return new VaeStep(loss, metrics);
    }

    private static double Read(Tensor t) => t.dtype == ScalarType.Float64 ? t.item<double>() : t.item<float>();
}

using Aavae.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Objectives;

/// <summary>
/// Closed forms for diagonal Gaussians, elementwise (callers sum over dimensions).
/// TorchSharp has no <c>kl_divergence</c>; these match torch.distributions.Normal.
/// Numbers reach libtorch as explicit scalars (see <see cref="Scalars"/>).
/// </summary>
public static class Gaussian
{
    /// <summary>log(sqrt(2 pi)).</summary>
    public const double HalfLog2Pi = 0.91893853320467274178;

    private static readonly Scalar HalfLog2PiScalar = HalfLog2Pi.ToScalar();
    private static readonly Scalar DefaultEps = 1e-6.ToScalar();

    /// <summary>log N(x; mean, std^2).</summary>
    public static Tensor LogProb(Tensor x, Tensor mean, Tensor std) =>
        x.sub(mean).div(std).pow(Scalars.Two).div(Scalars.Two).neg().sub(std.log()).sub(HalfLog2PiScalar);

    /// <summary>KL(N(muQ, stdQ^2) || N(muP, stdP^2)) = log(stdP/stdQ) + (stdQ^2 + (muQ-muP)^2) / (2 stdP^2) - 1/2.</summary>
    public static Tensor Kl(Tensor muQ, Tensor stdQ, Tensor muP, Tensor stdP)
    {
        var varRatio = stdQ.div(stdP).pow(Scalars.Two);
        var meanTerm = muQ.sub(muP).div(stdP).pow(Scalars.Two);
        return varRatio.Plus(meanTerm).sub(Scalars.One).sub(varRatio.log()).div(Scalars.Two);
    }

    /// <summary>KL(N(mu, std^2) || N(0, 1)) = (mu^2 + std^2 - 1) / 2 - log std.</summary>
    public static Tensor KlToStandardNormal(Tensor mu, Tensor std) =>
        mu.pow(Scalars.Two).Plus(std.pow(Scalars.Two)).sub(Scalars.One).div(Scalars.Two).sub(std.log());

    /// <summary>Standard deviation from a log-variance, kept away from zero (1e-6) as in the reference.</summary>
    public static Tensor StdFromLogVar(Tensor logvar) => logvar.div(Scalars.Two).exp().add(DefaultEps, Scalars.One);

    /// <summary>Reparameterised sample mu + std * eps, eps ~ N(0, 1), so gradients reach mu and std.</summary>
    public static Tensor Sample(Tensor mu, Tensor std, Tensor eps) => mu.Plus(std.mul(eps));
}

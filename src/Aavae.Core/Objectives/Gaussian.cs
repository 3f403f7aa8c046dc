using static TorchSharp.torch;

namespace Aavae.Objectives;

/// <summary>
/// Closed forms for diagonal Gaussians, elementwise (callers sum over dimensions).
/// TorchSharp has no <c>kl_divergence</c>; these match torch.distributions.Normal.
/// </summary>
public static class Gaussian
{
    /// <summary>log(sqrt(2 pi)).</summary>
    public const double HalfLog2Pi = 0.91893853320467274178;

    /// <summary>log N(x; mean, std^2).</summary>
    public static Tensor LogProb(Tensor x, Tensor mean, Tensor std) =>
        -(x - mean).div(std).square().div(2) - std.log() - HalfLog2Pi;

    /// <summary>KL(N(muQ, stdQ^2) || N(muP, stdP^2)) = log(stdP/stdQ) + (stdQ^2 + (muQ-muP)^2) / (2 stdP^2) - 1/2.</summary>
    public static Tensor Kl(Tensor muQ, Tensor stdQ, Tensor muP, Tensor stdP)
    {
        var varRatio = (stdQ / stdP).square();
        var meanTerm = ((muQ - muP) / stdP).square();
        return (varRatio + meanTerm - 1 - varRatio.log()) / 2;
    }

    /// <summary>KL(N(mu, std^2) || N(0, 1)) = (mu^2 + std^2 - 1) / 2 - log std.</summary>
    public static Tensor KlToStandardNormal(Tensor mu, Tensor std) =>
        (mu.square() + std.square() - 1) / 2 - std.log();

    /// <summary>Standard deviation from a log-variance, kept away from zero as in the reference.</summary>
    public static Tensor StdFromLogVar(Tensor logvar, double eps = 1e-6) => (logvar / 2).exp() + eps;

    /// <summary>Reparameterised sample mu + std * eps, eps ~ N(0, 1), so gradients reach mu and std.</summary>
    public static Tensor Sample(Tensor mu, Tensor std, Tensor eps) => mu + std * eps;
}

using static TorchSharp.torch;

namespace Aavae.Objectives;

/// <summary>
/// What the projection head makes of an image's features: the posterior q(z|x) as a diagonal
/// Gaussian (mean, log-variance and the standard deviation the reference's sample() uses) for the
/// VAEs, or a single point (<see cref="LogVar"/> and <see cref="Std"/> null) for the AE.
/// </summary>
public sealed record Latent(Tensor Mean, Tensor? LogVar = null, Tensor? Std = null)
{
    public static Latent Gaussian(Tensor mu, Tensor logVar) => new(mu, logVar, Objectives.Gaussian.StdFromLogVar(logVar));

    public Tensor RequireStd() => Std ?? throw new InvalidOperationException("a point latent (the AE's) has no posterior to sample from");
}

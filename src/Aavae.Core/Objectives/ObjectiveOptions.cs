using Aavae.Configuration;

namespace Aavae.Objectives;

/// <summary>The loss's own settings (src/vae.py's kl_coeff and val_samples).</summary>
public sealed record ObjectiveOptions
{
    /// <summary>Weight of KL(q(z|x) || p(z)): 0 for AAVAE, whose augmentations regularise instead; 0.1 for the VAE.</summary>
    [Setting("weight of the KL term", Min = 0)]
    public double KlCoeff { get; init; }

    /// <summary>Posterior samples per image in validation (the marginal-likelihood estimate).</summary>
    [Setting("posterior samples per image in validation", Min = 1)]
    public int ValSamples { get; init; } = 16;

    /// <summary>
    /// The reference encodes the original image on every training step, without gradient, for the
    /// cos_sim and kl_augmentation metrics alone; in training mode that pass also moves BatchNorm's
    /// running statistics, which evaluation uses, towards the originals'. Validation always encodes it.
    /// </summary>
    [Setting("encode the original image every N training steps for the cos_sim and kl_augmentation metrics (1: every step, as the reference; 0: in validation only); the loss does not use it", Min = 0)]
    public int OriginalEvery { get; init; } = 1;
}

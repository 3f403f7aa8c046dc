namespace Aavae.Objectives;

/// <summary>The quantities the reference logs each step, averaged over batch and samples.</summary>
public sealed record VaeMetrics(
    double Kl, double Elbo, double Loss, double Bpd, double CosSim, double KlAugmentation,
    double LogPxz, double LogPz, double LogPx, double LogScale)
{
    /// <summary>Reference names with a prefix, e.g. <c>train_kl</c>, <c>val_bpd</c>.</summary>
    public IReadOnlyDictionary<string, double> ToDictionary(string prefix) => new Dictionary<string, double>
    {
        [$"{prefix}kl"] = Kl,
        [$"{prefix}elbo"] = Elbo,
        [$"{prefix}loss"] = Loss,
        [$"{prefix}bpd"] = Bpd,
        [$"{prefix}cos_sim"] = CosSim,
        [$"{prefix}kl_augmentation"] = KlAugmentation,
        [$"{prefix}log_pxz"] = LogPxz,
        [$"{prefix}log_pz"] = LogPz,
        [$"{prefix}log_px"] = LogPx,
        [$"{prefix}log_scale"] = LogScale,
    };
}

/// <summary>What the AE baseline logs: its MSE loss and the latent agreement of the two views.</summary>
public sealed record AeMetrics(double Mse, double CosSim)
{
    public IReadOnlyDictionary<string, double> ToDictionary(string prefix) => new Dictionary<string, double>
    {
        [$"{prefix}mse"] = Mse,
        [$"{prefix}loss"] = Mse,
        [$"{prefix}cos_sim"] = CosSim,
    };
}

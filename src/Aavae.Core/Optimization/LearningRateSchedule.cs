namespace Aavae.Optimization;

public enum DecayKind { None, Cosine, Linear }

public static class DecayKinds
{
    /// <summary>vae.py's two int flags as one choice; both on is refused, as the reference's linear_warmup_decay asserts.</summary>
    public static DecayKind FromReference(int cosineDecay, int linearDecay) =>
        cosineDecay != 0 && linearDecay != 0
            ? throw new Configuration.OptionException("Decay", "cosine_decay and linear_decay exclude each other (the reference's linear_warmup_decay asserts it)")
            : cosineDecay != 0 ? DecayKind.Cosine : linearDecay != 0 ? DecayKind.Linear : DecayKind.None;
}

/// <summary>
/// The reference's per-step multiplier of the base learning rate: linear warm-up from 0 over
/// <c>WarmupSteps</c>, then constant, or cosine / linear decay to 0 at <c>TotalSteps</c>.
/// </summary>
public sealed record LearningRateSchedule(long WarmupSteps, long TotalSteps, DecayKind Decay)
{
    /// <summary>The schedule of a run counted in epochs; a fractional warm-up ends at the nearest whole step.</summary>
    public static LearningRateSchedule ForEpochs(int batchesPerEpoch, double warmupEpochs, int maxEpochs, DecayKind decay) =>
        new((long)Math.Round(batchesPerEpoch * warmupEpochs, MidpointRounding.AwayFromZero), (long)batchesPerEpoch * maxEpochs, decay);

    public double Factor(long step)
    {
        if (step < WarmupSteps) return (double)step / Math.Max(1, WarmupSteps);
        if (Decay == DecayKind.None) return 1.0;
        double progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        return Decay == DecayKind.Cosine ? 0.5 * (1.0 + Math.Cos(Math.PI * progress)) : 1.0 - progress;
    }
}

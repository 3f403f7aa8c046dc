using Aavae.Configuration;

namespace Aavae.Optimization;

/// <summary>The reference's two optimizers for pre-training (vae.py's --optimizer).</summary>
public enum OptimizerKind
{
    /// <summary>torch.optim.Adam.</summary>
    Adam,
    /// <summary>The reference's LAMB (src/optimizers/lamb.py): Adam moments with a per-layer trust ratio.</summary>
    Lamb,
}

public static class OptimizerKinds
{
    /// <summary>"adam" or "lamb", any case; an <see cref="OptionException"/> naming the optimizer setting otherwise.</summary>
    public static OptimizerKind Parse(string name) => SettingValues.Parse<OptimizerKind>(name, "Optimizer");

    /// <summary>The reference's spelling: adam, lamb.</summary>
    public static string Name(this OptimizerKind kind) => SettingValues.Name(kind);
}

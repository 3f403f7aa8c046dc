using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace Aavae.Training;

/// <summary>Parameters that share an optimizer setting.</summary>
public sealed record ParameterGroup(IReadOnlyList<Parameter> Parameters, double WeightDecay, bool ExcludeFromLayerAdaptation);

public static class ParameterGroups
{
    /// <summary>
    /// The reference's <c>exclude_from_wt_decay_and_layer_adaptation</c>: parameters whose name
    /// contains "bias" or "bn" get no weight decay and no LAMB trust ratio; without
    /// <paramref name="excludeBnBias"/> every trainable parameter is in one group. Frozen
    /// parameters (a fixed log_scale) are left out.
    /// </summary>
    public static IReadOnlyList<ParameterGroup> Create(Module module, double weightDecay, bool excludeBnBias)
    {
        var trainable = module.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        if (!excludeBnBias)
            return [new ParameterGroup(trainable.Select(p => p.parameter).ToList(), weightDecay, false)];
        static bool Excluded(string name) => name.Contains("bias", StringComparison.Ordinal) || name.Contains("bn", StringComparison.Ordinal);
        return
        [
            new ParameterGroup(trainable.Where(p => !Excluded(p.name)).Select(p => p.parameter).ToList(), weightDecay, false),
            new ParameterGroup(trainable.Where(p => Excluded(p.name)).Select(p => p.parameter).ToList(), 0, true),
        ];
    }
}

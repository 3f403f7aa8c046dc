using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace Aavae.Optimization;

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
        var split = Split(module.named_parameters().Select(p => (p.name, p.parameter)), excludeBnBias);
        return excludeBnBias
            ? [new ParameterGroup(Values(split[0]), weightDecay, false), new ParameterGroup(Values(split[1]), 0, true)]
            : [new ParameterGroup(Values(split[0]), weightDecay, false)];
    }

    /// <summary>The trainable parameters of <paramref name="named"/>, in its order, as <see cref="Create"/> groups them.</summary>
    public static IReadOnlyList<IReadOnlyList<(string Name, Parameter Parameter)>> Split(IEnumerable<(string Name, Parameter Parameter)> named, bool excludeBnBias)
    {
        var trainable = named.Where(p => p.Parameter.requires_grad).ToList();
        return excludeBnBias
            ? [trainable.Where(p => !Excluded(p.Name)).ToList(), trainable.Where(p => Excluded(p.Name)).ToList()]
            : [trainable];
    }

    /// <summary>The reference's skip list <c>['bias', 'bn']</c>, matched anywhere in the name.</summary>
    public static bool Excluded(string name) => name.Contains("bias", StringComparison.Ordinal) || name.Contains("bn", StringComparison.Ordinal);

    private static List<Parameter> Values(IReadOnlyList<(string Name, Parameter Parameter)> group) => group.Select(p => p.Parameter).ToList();
}

using System.Collections;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Optimization;

/// <summary>Reading PyTorch-layout optimizer states back, with errors that say what does not fit.</summary>
public static class OptimizerState
{
    /// <summary>The per-parameter dictionaries of <c>state["state"]</c>, indexed 0..count-1 (null where a parameter has none yet).</summary>
    public static IDictionary?[] PerParameter(IDictionary state, int count)
    {
        if (state["state"] is not IDictionary perParameter)
            throw new InvalidDataException("optimizer state has no 'state' dictionary");
        var result = new IDictionary?[count];
        foreach (DictionaryEntry e in perParameter)
        {
            long i = ToLong(e.Key);
            if (i < 0 || i >= count)
                throw new InvalidDataException($"optimizer state refers to parameter {i}, but the model has {count}");
            result[i] = e.Value as IDictionary ?? throw new InvalidDataException($"optimizer state of parameter {i} is not a dictionary");
        }
        return result;
    }

    /// <summary>
    /// A moment tensor for <paramref name="parameter"/>, checked against its shape and copied into its
    /// type, device and memory layout: files hold moments contiguous, a channels-last parameter's
    /// live ones are channels-last, and LAMB's norms sum in memory order, so a resumed run is
    /// bit-identical only with the layout restored too.
    /// </summary>
    public static Tensor Tensor(IDictionary s, string key, Tensor parameter)
    {
        if (s[key] is not Tensor t) throw new InvalidDataException($"optimizer state lacks '{key}'");
        if (!t.shape.SequenceEqual(parameter.shape))
            throw new InvalidDataException($"optimizer state '{key}' has shape [{string.Join(", ", t.shape)}], the parameter [{string.Join(", ", parameter.shape)}]");
        var moment = empty_like(parameter);
        moment.copy_(t);
        return moment.DetachFromDisposeScope();
    }

    /// <summary>
    /// PyTorch's <c>param_groups</c>: each group's settings and the indices of its parameters,
    /// numbered across groups in order, as <c>state</c> is keyed.
    /// </summary>
    public static List<object> ParamGroups(IReadOnlyList<ParameterGroup> groups, Func<int, ParameterGroup, Dictionary<string, object>> settings)
    {
        int offset = 0;
        var result = new List<object>();
        for (int g = 0; g < groups.Count; g++)
        {
            var entry = settings(g, groups[g]);
            entry["params"] = Enumerable.Range(offset, groups[g].Parameters.Count).Cast<object>().ToList();
            offset += groups[g].Parameters.Count;
            result.Add(entry);
        }
        return result;
    }

    public static long ToLong(object value) => value switch
    {
        Tensor t => (long)t.to_type(ScalarType.Float64).item<double>(),
        IConvertible c => c.ToInt64(null),
        _ => throw new InvalidDataException($"expected a number in the optimizer state, got {value.GetType().Name}"),
    };
}

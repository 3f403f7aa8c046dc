using System.Collections;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Aavae.Checkpoints;

/// <summary>Keys of a state_dict that did not line up with a module's.</summary>
public sealed record LoadReport(IReadOnlyList<string> Missing, IReadOnlyList<string> Unexpected)
{
    public bool Complete => Missing.Count == 0 && Unexpected.Count == 0;

    public override string ToString() =>
        Complete ? "all keys matched"
        : $"missing: [{string.Join(", ", Missing)}]; unexpected: [{string.Join(", ", Unexpected)}]";
}

public static class StateDicts
{
    /// <summary>Where Lightning keeps the reference's online fine-tuner in a checkpoint's state_dict.</summary>
    public const string OnlineProbePrefix = "online_finetuner.";

    /// <summary>
    /// Copies the tensors of <paramref name="source"/> (names without prefix) into
    /// <paramref name="module"/>'s parameters and buffers. A shape mismatch throws
    /// <see cref="InvalidDataException"/> naming the key; keys on only one side are reported,
    /// and throw when <paramref name="strict"/>. Nothing is copied unless every shape fits.
    /// </summary>
    public static LoadReport Load(Module module, IReadOnlyDictionary<string, Tensor> source, bool strict, string what)
    {
        var target = module.state_dict();
        var missing = target.Keys.Where(k => !source.ContainsKey(k)).ToList();
        var unexpected = source.Keys.Where(k => !target.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        foreach (var (name, t) in target)
            if (source.TryGetValue(name, out var s) && !s.shape.SequenceEqual(t.shape))
                throw new InvalidDataException(
                    $"{what}: '{name}' has shape [{string.Join(", ", s.shape)}] but this model expects [{string.Join(", ", t.shape)}] (a checkpoint of another architecture?)");
        var report = new LoadReport(missing, unexpected);
        if (strict && !report.Complete) throw new InvalidDataException($"{what}: state_dict does not fit the model: {report}");
        using var _ = no_grad();
        foreach (var (name, t) in target)
            if (source.TryGetValue(name, out var s))
                t.copy_(s);
        return report;
    }

    /// <summary>The tensors of a pickled dictionary whose keys start with <paramref name="prefix"/>, prefix removed.</summary>
    public static Dictionary<string, Tensor> Select(IDictionary stateDict, string prefix)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in stateDict)
            if (e.Key is string k && k.StartsWith(prefix, StringComparison.Ordinal) && e.Value is Tensor t)
                result[k[prefix.Length..]] = t;
        return result;
    }

    /// <summary>The entries whose keys do not start with <paramref name="prefix"/> (e.g. everything but the online probe).</summary>
    public static Dictionary<string, Tensor> Without(IReadOnlyDictionary<string, Tensor> stateDict, string prefix) =>
        stateDict.Where(kv => !kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary();

    /// <summary>A module's state_dict as a pickle-ready dictionary with <paramref name="prefix"/> prepended.</summary>
    public static Dictionary<string, object> WithPrefix(Module module, string prefix) =>
        module.state_dict().ToDictionary(kv => prefix + kv.Key, kv => (object)kv.Value);
}

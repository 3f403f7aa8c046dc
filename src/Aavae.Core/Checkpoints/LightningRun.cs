using Aavae.Checkpoints;
using Aavae.Optimization;
using System.Collections;
using System.Globalization;
using Aavae.Data;
using Aavae.Models;
using Aavae.Options;

namespace Aavae.Checkpoints;

/// <summary>
/// A pre-training checkpoint the reference wrote (PyTorch Lightning's <c>.ckpt</c> of src/vae.py or
/// src/ae.py), read so that this project continues that run as the reference's <c>--ckpt_path</c>
/// does: weights, the optimizer's moments, the step count of the learning-rate schedule and the
/// epoch. What the file does not hold (the data order's generator) starts from the run's seed.
/// </summary>
public static class LightningRun
{
    /// <summary>The run's configuration, from the checkpoint's <c>hyper_parameters</c>; what they lack takes vae.py's argparse defaults.</summary>
    public static TrainingCheckpoint Read(Hashtable content, string path)
    {
        if (content["hyper_parameters"] is not IDictionary h)
            throw new InvalidDataException($"{path}: this Lightning checkpoint has no hyper_parameters, so how its run was configured is unknown; init_from takes its weights alone");
        if (content["state_dict"] is not IDictionary stateDict)
            throw new InvalidDataException($"{path}: the checkpoint has no state_dict");
        var tensors = StateDicts.Without(StateDicts.Select(stateDict, ""), StateDicts.OnlineProbePrefix);
        var model = ArchitectureInference.Infer(tensors, h, path);

        var dataset = DatasetInfo.Get(HyperParameters.Text(h, "dataset") ?? "cifar10");
        var reference = Presets.For("reference", model.Kind) with
        {
            Model = model,
            Data = new DataOptions
            {
                Dataset = dataset,
                DataDir = HyperParameters.Text(h, "data_path") is { } dir && Path.IsPathRooted(dir) && Directory.Exists(dir) ? dir : null,
            },
        };
        var options = HyperParameters.Read(h, reference);
        return new TrainingCheckpoint(options, Position(content, path), content) { Path = path, Format = CheckpointFormat.Lightning };
    }

    /// <summary>
    /// Where the run stands. Lightning before 1.5 stores the next epoch and global_step + 1 (its
    /// dump_checkpoint adds one to both); from 1.5 on, the epoch just finished and the true step
    /// count. The LambdaLR state, stepped once per optimizer step, gives the count exactly. Lightning
    /// resumes at an epoch boundary, and so does this.
    /// </summary>
    public static TrainingPosition Position(IDictionary content, string path)
    {
        long epoch = content["epoch"] is { } e ? OptimizerState.ToLong(e) : throw new InvalidDataException($"{path}: the checkpoint has no epoch");
        long globalStep = content["global_step"] is { } g ? OptimizerState.ToLong(g) : 0;
        bool storesNext = StoresNextEpoch(content["pytorch-lightning_version"] as string);
        long steps = content["lr_schedulers"] is IList { Count: > 0 } schedulers && schedulers[0] is IDictionary s && s["last_epoch"] is { } last
            ? OptimizerState.ToLong(last)
            : Math.Max(0, storesNext ? globalStep - 1 : globalStep);
        return new TrainingPosition((int)(storesNext ? epoch : epoch + 1), 0, steps);
    }

    private static bool StoresNextEpoch(string? version)
    {
        if (version is null) return true;
        var parts = version.Split('.');
        return !(parts.Length >= 2 && int.TryParse(parts[0], out int major) && int.TryParse(new string(parts[1].TakeWhile(char.IsDigit).ToArray()), out int minor))
            || major < 1 || (major == 1 && minor < 5);
    }

    /// <summary>
    /// The reference's optimizer state re-keyed to this model's parameter order. The reference numbers
    /// parameters in the order its configure_optimizers passes them: all of <c>self.parameters()</c>
    /// (a frozen log_scale included), which PyTorch yields as log_scale, then encoder, decoder and
    /// projection in registration order; or, with exclude_bn_bias, the two groups of
    /// exclude_from_wt_decay. This model registers the projection before the decoder, so the
    /// indices differ and are mapped by name.
    /// </summary>
    public static IDictionary ToModelOrder(IDictionary state, AavaeModel model, PretrainOptions options, string what)
    {
        var named = model.named_parameters().Select((p, i) => (p.name, p.parameter, i)).ToList();
        var referenceOrder = named.OrderBy(p => Rank(p.name)).ThenBy(p => p.i).Select(p => (p.name, p.parameter)).ToList();
        var referenceIndex = options.Optimizer.ExcludeBnBias
            ? ParameterGroups.Split(referenceOrder, true).SelectMany(g => g).Select(p => p.Name).ToList()
            : referenceOrder.Select(p => p.name).ToList();
        var ownIndex = ParameterGroups.Split(named.Select(p => (p.name, p.parameter)), options.Optimizer.ExcludeBnBias)
            .SelectMany(g => g).Select((p, i) => (p.Name, i)).ToDictionary(p => p.Name, p => p.i);

        int held = state["param_groups"] is IList groups
            ? groups.Cast<object>().Sum(g => g is IDictionary d && d["params"] is IList p ? p.Count : 0)
            : throw new InvalidDataException($"{what}: the optimizer state has no param_groups");
        if (held != referenceIndex.Count)
            throw new InvalidDataException($"{what}: the checkpoint's optimizer holds {held} parameters; the reference's model of this architecture passes {referenceIndex.Count} (exclude_bn_bias {options.Optimizer.ExcludeBnBias})");

        var perParameter = state["state"] as IDictionary ?? throw new InvalidDataException($"{what}: the optimizer state has no 'state' dictionary");
        var rekeyed = new Dictionary<object, object?>();
        foreach (DictionaryEntry e in perParameter)
        {
            long i = OptimizerState.ToLong(e.Key);
            if (i < 0 || i >= referenceIndex.Count) throw new InvalidDataException($"{what}: the optimizer state refers to parameter {i} of {referenceIndex.Count}");
            var name = referenceIndex[(int)i];
            if (!ownIndex.TryGetValue(name, out int own))
                throw new InvalidDataException($"{what}: the optimizer holds state for '{name}', which this run does not train (learn_scale?)");
            rekeyed[(long)own] = e.Value;
        }
        var result = new Hashtable();
        foreach (DictionaryEntry e in state) result[e.Key] = e.Value;
        result["state"] = rekeyed;
        return result;
    }

    // PyTorch yields a module's own parameters before its children's: log_scale, then the submodules as registered.
    private static int Rank(string name) =>
        !name.Contains('.') ? 0
        : name.StartsWith("encoder.", StringComparison.Ordinal) ? 1
        : name.StartsWith("decoder.", StringComparison.Ordinal) ? 2
        : 3;
}

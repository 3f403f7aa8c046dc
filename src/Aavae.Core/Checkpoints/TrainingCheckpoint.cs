using Aavae.Checkpoints;
using Aavae.Optimization;
using System.Collections;
using Aavae.Models;
using TorchSharp;
using static TorchSharp.torch;
using Aavae.Options;

namespace Aavae.Checkpoints;

/// <summary>
/// A pre-training checkpoint, laid out as a PyTorch Lightning <c>.ckpt</c> so Python reads it
/// with <c>torch.load</c>: <c>state_dict</c> (the reference's names), <c>epoch</c>,
/// <c>global_step</c>, <c>hyper_parameters</c>, <c>optimizer_states</c>; plus an <c>aavae</c>
/// entry with what exact resumption needs (configuration, position in the epoch, libtorch's
/// generator state, the online probe's optimizer). A checkpoint the reference wrote is read by
/// <see cref="LightningRun"/> and continues from its epoch boundary.
/// </summary>
public sealed record TrainingCheckpoint(PretrainOptions Options, TrainingPosition Position, Hashtable Content)
{
    public const int FormatVersion = 1;

    /// <summary>The file it was read from.</summary>
    public string Path { get; init; } = "";

    /// <summary>This project's (resumes bit-exactly) or the reference's Lightning run.</summary>
    public CheckpointFormat Format { get; init; } = CheckpointFormat.Aavae;

    public static void Save(string path, PretrainOptions options, TrainingPosition position, AavaeModel model,
        IStepOptimizer optimizer, ProbeState? probe, GradScaler? scaler = null)
    {
        // A diverged model must never replace a good checkpoint.
        foreach (var (name, p) in model.named_parameters())
            if (!p.isfinite().all().item<bool>())
                throw new InvalidOperationException($"refusing to checkpoint: parameter '{name}' holds non-finite values");

        var stateDict = StateDicts.WithPrefix(model, "");
        if (probe is not null)
            foreach (var (k, v) in StateDicts.WithPrefix(probe.Layer, StateDicts.OnlineProbePrefix)) stateDict[k] = v;

        var content = new Hashtable
        {
            ["epoch"] = Math.Max(0, position.Epoch - (position.Batch == 0 ? 1 : 0)),
            ["global_step"] = position.GlobalStep,
            ["state_dict"] = stateDict,
            ["hyper_parameters"] = HyperParameters.Write(options),
            ["optimizer_states"] = new List<object> { optimizer.StateDict() },
            ["aavae"] = new Dictionary<string, object?>
            {
                ["format_version"] = FormatVersion,
                ["config"] = options.ToJson(),
                ["next_epoch"] = position.Epoch,
                ["next_batch"] = position.Batch,
                ["torch_rng_state"] = torch.get_rng_state(),
                ["probe_optimizer"] = probe?.Optimizer.StateDict(),
            },
        };
        // Lightning's key for the AMP scaler's state, written as it does only when a scaler runs (16-mixed).
        if (scaler is not null) content["native_amp_scaling_state"] = scaler.StateDict();
        TorchFile.Write(path, content);
    }

    /// <summary>Reads one of this project's checkpoints or a pre-training checkpoint of the reference (a Lightning file with its optimizer state).</summary>
    public static TrainingCheckpoint Read(string path)
    {
        var content = TorchFile.Read(path);
        if (content["aavae"] is not IDictionary aavae || aavae["config"] is not string config)
        {
            if (content["optimizer_states"] is IList { Count: > 0 } && content["state_dict"] is IDictionary)
                return LightningRun.Read(content, path);
            throw new InvalidDataException($"{path}: holds no optimizer state, so there is no run to continue; init_from starts a new run from its weights");
        }
        var options = PretrainOptions.FromJson(config, $"{path} (its configuration)");
        long Count(object? value, string name) => value switch
        {
            int or long => OptimizerState.ToLong(value) is var n and >= 0 and <= int.MaxValue ? n
                : throw new InvalidDataException($"{path}: {name} {value} is out of range"),
            _ => throw new InvalidDataException($"{path}: {name} is {value?.GetType().Name ?? "missing"}, expected a whole number"),
        };
        var position = new TrainingPosition((int)Count(aavae["next_epoch"], "next_epoch"), (int)Count(aavae["next_batch"], "next_batch"),
            Count(content["global_step"], "global_step"));
        return new TrainingCheckpoint(options, position, content) { Path = path };
    }

    public IDictionary StateDict => Content["state_dict"] as IDictionary ?? throw new InvalidDataException("checkpoint has no state_dict");

    /// <summary>Puts weights, optimizer moments, probe and generator state back. The model must have the checkpoint's architecture.</summary>
    public void Restore(AavaeModel model, IStepOptimizer optimizer, ProbeState? probe, string what, GradScaler? scaler = null)
    {
        bool own = Format != CheckpointFormat.Lightning;
        StateDicts.Load(model, StateDicts.Without(StateDicts.Select(StateDict, ""), StateDicts.OnlineProbePrefix), strict: true, what);
        var probeWeights = StateDicts.Select(StateDict, StateDicts.OnlineProbePrefix);
        // The reference's probe lives in its callback; its weights are in the state_dict only when online_ft was on.
        if (probe is not null && (own || probeWeights.Count > 0))
            StateDicts.Load(probe.Layer, probeWeights, strict: true, what + " (online probe)");
        if (Content["optimizer_states"] is not IList { Count: > 0 } states || states[0] is not IDictionary optimizerState)
            throw new InvalidDataException($"{what}: no optimizer state");
        optimizer.LoadStateDict(own ? optimizerState : LightningRun.ToModelOrder(optimizerState, model, Options, what));
        if (scaler is not null && Content["native_amp_scaling_state"] is IDictionary scaling) scaler.LoadStateDict(scaling);
        if (!own) return;
        var aavae = (IDictionary)Content["aavae"]!;
        if (probe is not null && aavae["probe_optimizer"] is IDictionary probeState) probe.Optimizer.LoadStateDict(probeState);
        if (aavae["torch_rng_state"] is Tensor rng) torch.set_rng_state(rng);
    }
}

/// <summary>The online probe as a checkpoint holds it: its layer, under <see cref="StateDicts.OnlineProbePrefix"/>, and its optimizer's state.</summary>
public sealed record ProbeState(TorchSharp.torch.nn.Module Layer, IStepOptimizer Optimizer);

using System.Collections;
using System.Globalization;
using Aavae.Data;
using Aavae.Models;
using Aavae.Optimization;
using Aavae.Runtime;
using Aavae.Options;

namespace Aavae.Checkpoints;

/// <summary>
/// The reference's hyper-parameter names (src/vae.py's argparse, as Lightning keeps them in a
/// checkpoint's <c>hyper_parameters</c>), one table both ways: what this project writes so that
/// PyTorch's <c>load_from_checkpoint</c> rebuilds the model, and what it reads from a checkpoint the
/// reference wrote to continue that run. The architecture's names are written but read from the
/// weights themselves (<see cref="Checkpoints.ArchitectureInference"/>), which cannot disagree with them.
/// </summary>
public static class HyperParameters
{
    /// <param name="Read">Null: written only.</param>
    private sealed record Entry(string Name, Func<PretrainOptions, object?> Write, Func<PretrainOptions, IDictionary, PretrainOptions>? Read = null);

    private static readonly Entry[] Table =
    [
        new("dataset", o => o.Data.Dataset.Name),
        new("encoder_name", o => o.Model.Encoder),
        new("decoder_name", o => o.Model.DecoderName),
        new("h_dim", o => o.Model.FeatureDim),
        new("latent_dim", o => o.Model.LatentDim),
        new("input_height", o => o.Model.InputHeight),
        new("first_conv3x3", o => o.Model.Stem.FirstConv3x3()),
        new("remove_first_maxpool", o => o.Model.Stem.RemoveFirstMaxPool()),
        new("width", o => o.Model.Width),
        new("model", o => o.Model.Kind.ToString().ToLowerInvariant()),
        new("denoising", o => o.Augmentation.Denoising, (o, h) => o with { Augmentation = o.Augmentation with { Denoising = Flag(h, "denoising", o.Augmentation.Denoising) } }),
        // vae.py sets jitter_strength per data set before VAE(**args.__dict__), which keeps it among the hyper-parameters.
        new("jitter_strength", o => o.Augmentation.JitterStrength ?? o.Data.Dataset.JitterStrength,
            (o, h) => o with { Augmentation = o.Augmentation with { JitterStrength = h.Contains("jitter_strength") ? Number(h, "jitter_strength", o.Data.Dataset.JitterStrength) : null } }),
        new("kl_coeff", o => o.Objective.KlCoeff, (o, h) => o with { Objective = o.Objective with { KlCoeff = Number(h, "kl_coeff", o.Objective.KlCoeff) } }),
        new("log_scale", o => o.Model.LogScale, (o, h) => o with { Model = o.Model with { LogScale = Number(h, "log_scale", 0) } }),
        new("learn_scale", o => o.Model.LearnScale ? 1 : 0, (o, h) => o with { Model = o.Model with { LearnScale = Integer(h, "learn_scale", 0) != 0 } }),
        new("val_samples", o => o.Objective.ValSamples, (o, h) => o with { Objective = o.Objective with { ValSamples = Integer(h, "val_samples", o.Objective.ValSamples) } }),
        new("optimizer", o => o.Optimizer.Algorithm.Name(), (o, h) => o with { Optimizer = o.Optimizer with { Algorithm = Text(h, "optimizer") is { } name ? OptimizerKinds.Parse(name) : o.Optimizer.Algorithm } }),
        new("learning_rate", o => o.Optimizer.LearningRate, (o, h) => o with { Optimizer = o.Optimizer with { LearningRate = Number(h, "learning_rate", o.Optimizer.LearningRate) } }),
        new("weight_decay", o => o.Optimizer.WeightDecay, (o, h) => o with { Optimizer = o.Optimizer with { WeightDecay = Number(h, "weight_decay", o.Optimizer.WeightDecay) } }),
        new("exclude_bn_bias", o => o.Optimizer.ExcludeBnBias, (o, h) => o with { Optimizer = o.Optimizer with { ExcludeBnBias = Flag(h, "exclude_bn_bias", o.Optimizer.ExcludeBnBias) } }),
        // vae.py's argparse type is int: whole epochs stay ints for the reference's load_from_checkpoint.
        new("warmup_epochs", o => o.Optimizer.WarmupEpochs == Math.Floor(o.Optimizer.WarmupEpochs) ? (object)(int)o.Optimizer.WarmupEpochs : o.Optimizer.WarmupEpochs,
            (o, h) => o with { Optimizer = o.Optimizer with { WarmupEpochs = Number(h, "warmup_epochs", o.Optimizer.WarmupEpochs) } }),
        new("max_epochs", o => o.Trainer.MaxEpochs, (o, h) => o with { Trainer = o.Trainer with { MaxEpochs = Integer(h, "max_epochs", o.Trainer.MaxEpochs) } }),
        new("cosine_decay", o => o.Optimizer.Decay == DecayKind.Cosine ? 1 : 0,
            (o, h) => o with { Optimizer = o.Optimizer with { Decay = DecayKinds.FromReference(Integer(h, "cosine_decay", 0), Integer(h, "linear_decay", 0)) } }),
        new("linear_decay", o => o.Optimizer.Decay == DecayKind.Linear ? 1 : 0),
        // vae.py's batch_size is per device (global batch = gpus x num_nodes x batch_size); this project's is global.
        new("batch_size", o => o.Data.BatchSize,
            (o, h) => o with { Data = o.Data with { BatchSize = Integer(h, "batch_size", o.Data.BatchSize) * Math.Max(1, Integer(h, "gpus", 1)) * Math.Max(1, Integer(h, "num_nodes", 1)) } }),
        new("seed", o => o.Seed, (o, h) => o with { Seed = Integer(h, "seed", o.Seed) }),
        new("online_ft", o => o.Monitors.OnlineFt, (o, h) => o with { Monitors = o.Monitors with { OnlineFt = Flag(h, "online_ft", o.Monitors.OnlineFt) } }),
        // vae.py's own flag, and Lightning's name for what ran.
        new("fp16", o => o.Trainer.Precision == Precision.Fp16Mixed),
        new("precision", o => o.Trainer.Precision.Name()),
    ];

    /// <summary>The names this project writes, in the order it writes them.</summary>
    public static IReadOnlyList<string> Names { get; } = Table.Select(e => e.Name).ToList();

    /// <summary>The reference's hyper-parameter names and values, as Lightning stores them in a checkpoint.</summary>
    public static Dictionary<string, object?> Write(PretrainOptions options) => Table.ToDictionary(e => e.Name, e => e.Write(options));

    /// <summary>
    /// <paramref name="start"/> (the reference's defaults for the checkpoint's model and data set) with
    /// every training setting <paramref name="h"/> records; what it lacks takes vae.py's argparse default
    /// (<paramref name="start"/>'s value, or for log_scale, learn_scale and jitter_strength, 0, 0 and the data set's).
    /// </summary>
    public static PretrainOptions Read(IDictionary h, PretrainOptions start) =>
        Table.Where(e => e.Read is not null).Aggregate(start, (o, e) => e.Read!(o, h));

    public static string? Text(IDictionary h, string key) => h.Contains(key) ? h[key] as string : null;

    private static double Number(IDictionary h, string key, double fallback) =>
        h.Contains(key) && h[key] is IConvertible c ? c.ToDouble(CultureInfo.InvariantCulture) : fallback;

    private static int Integer(IDictionary h, string key, int fallback) =>
        h.Contains(key) && h[key] is IConvertible c ? c.ToInt32(CultureInfo.InvariantCulture) : fallback;

    private static bool Flag(IDictionary h, string key, bool fallback) =>
        h.Contains(key) && h[key] is IConvertible c ? c.ToBoolean(CultureInfo.InvariantCulture) : fallback;
}

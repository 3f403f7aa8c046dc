using Aavae.Configuration;
using Aavae.Models;
using Aavae.Objectives;
using Aavae.Optimization;
using Aavae.Runtime;

namespace Aavae.Options;

/// <summary>A named starting point for a run: what it is for, and its settings.</summary>
public sealed record Preset(string Name, string Purpose, PretrainOptions Options)
{
    /// <summary>The preset in one line, its values read from its record: what <c>--help</c> prints.</summary>
    public string Describe()
    {
        var o = Options;
        string precision = o.Trainer.Precision == Precision.Full32 ? "" : $", precision {SettingValues.Format(o.Trainer.Precision)}";
        return $"{Purpose}: {SettingValues.Format(o.Model.Kind)}, {o.Model.Encoder}/{o.Model.DecoderName} width {o.Model.WidthLabel}, batch {o.Data.BatchSize}, "
            + $"lr {SettingValues.Format(o.Optimizer.LearningRate)}, warm-up {SettingValues.Format(o.Optimizer.WarmupEpochs)}, "
            + $"{o.Trainer.MaxEpochs} epochs{precision}";
    }
}

/// <summary>
/// Named starting points for a run; options typed on the command line override them. Each is a
/// record of settings, and <see cref="Preset.Describe"/> prints it from that record.
/// <para>The decoder: the reference builds <c>decoder50</c> whatever the encoder (vae.py's
/// <c>--decoder_name</c> default), so <c>paper</c> and <c>reference</c> do too; <c>cpu-small</c>
/// pairs each encoder with its own decoder (resnet18 -> decoder18), which keeps a small run small.</para>
/// </summary>
public static class Presets
{
    /// <summary>vae.py's and ae.py's <c>--decoder_name</c> default.</summary>
    public const string ReferenceDecoder = "decoder50";

    /// <summary>What <c>aavae pretrain</c> starts when no preset is named: the one that fits a CPU.</summary>
    public const string Default = "cpu-small";

    /// <summary>
    /// <c>cpu-small</c>: each value chosen on the 5,000-image validation split for accuracy per CPU-minute
    /// on 2 cores (docs/results.md); the online probe and k-NN are off because neither is the accuracy
    /// reported, and every step they take is a step not trained.
    /// </summary>
    private static readonly PretrainOptions CpuSmall = new()
    {
        Model = new ModelOptions { Encoder = "resnet18", Width = 32, DecoderWidth = 16, LatentDim = 64 },
        Objective = new ObjectiveOptions { ValSamples = 1, OriginalEvery = 0 },
        Data = new() { BatchSize = 128 },
        Optimizer = new OptimizerOptions { LearningRate = 3e-3, WarmupEpochs = 1, Decay = DecayKind.Cosine },
        Trainer = new TrainerOptions { MaxEpochs = 2, Precision = Precision.Auto, CheckpointEvery = 1 },
        Monitors = new() { KnnEvery = 0, OnlineFt = false },
    };

    public static IReadOnlyList<Preset> All { get; } =
    [
        new("paper", "the paper's CIFAR-10 run as the reference's README gives it, for GPUs", new PretrainOptions()),
        new("reference", "vae.py's argparse defaults", new PretrainOptions
        {
            Model = new ModelOptions { Kind = ModelKind.Vae, Decoder = ReferenceDecoder },
            Augmentation = new() { Denoising = false },
            Objective = new ObjectiveOptions { KlCoeff = VaeObjective.ReferenceKlCoeff, ValSamples = 1 },
            Data = new() { BatchSize = 128 },
            Optimizer = new OptimizerOptions { LearningRate = 1e-3, WarmupEpochs = 20 },
        }),
        new("cpu-small", "Fashion-MNIST pre-training and linear evaluation on a 2-core CPU", CpuSmall),
        // A point of each curve every epoch, for AAVAE, VAE and AE at the same budget (aavae plot).
        new("cpu-long", "cpu-small's model for longer, scored every epoch: the curves of aavae plot", CpuSmall with
        {
            Trainer = CpuSmall.Trainer with { MaxEpochs = 5, CheckpointEvery = 1 },
            Monitors = CpuSmall.Monitors with { KnnEvery = 1, LinearProbeEvery = 1 },
        }),
    ];

    public static IReadOnlyList<string> Names { get; } = All.Select(p => p.Name).ToList();

    public static Preset Named(string name) =>
        All.FirstOrDefault(p => p.Name == name) ?? throw new OptionException("Preset", $"{name}: expected one of {string.Join(", ", Names)}");

    public static PretrainOptions Get(string name) => Named(name).Options;

    /// <summary>
    /// The preset's values for a model kind: the kind's denoising and kl_coeff (<see cref="WithKind"/>),
    /// and, under the reference's presets, the reference AE's own defaults (src/ae.py's argparse:
    /// weight decay 1e-6, 10 warm-up epochs). <c>cpu-small</c> keeps one setting for all three kinds,
    /// so that their accuracies compare at the same budget.
    /// </summary>
    /// <param name="kind">Null: the preset's own kind.</param>
    public static PretrainOptions For(string preset, ModelKind? kind = null)
    {
        var start = Get(preset);
        var chosen = kind ?? start.Model.Kind;
        var options = WithKind(start, chosen);
        if (chosen == ModelKind.Ae && preset is "paper" or "reference")
            options = options with { Optimizer = options.Optimizer with { WeightDecay = 1e-6, WarmupEpochs = 10 } };
        return options;
    }

    /// <summary>The paper's set-ups: AAVAE denoises with no KL term; the VAE keeps the KL and sees the original; the AE sees the original.</summary>
    public static PretrainOptions WithKind(PretrainOptions options, ModelKind kind) => options with
    {
        Model = options.Model with { Kind = kind },
        Augmentation = options.Augmentation with { Denoising = kind == ModelKind.Aavae },
        Objective = options.Objective with { KlCoeff = kind == ModelKind.Aavae ? 0 : VaeObjective.ReferenceKlCoeff },
    };
}

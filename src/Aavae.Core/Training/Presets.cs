using Aavae.Configuration;
using Aavae.Models;
using Aavae.Objectives;
using Aavae.Optimization;
using Aavae.Runtime;

namespace Aavae.Training;

/// <summary>
/// Named starting points for a run; options typed on the command line override them.
/// <c>paper</c> is the paper's CIFAR-10 run as the reference's README gives it (AAVAE, resnet50 /
/// decoder50, batch 256, Adam 2.5e-4, 10 warm-up epochs, 16 validation samples, weight decay 0,
/// log_scale 0, 3,200 epochs): the setting for GPUs. <c>reference</c> is the reference's own
/// argparse defaults (vae.py without flags: a VAE with kl_coeff 0.1, batch 128, Adam 1e-3, 20
/// warm-up epochs). <c>cpu-small</c> is the same architecture family sized so that pre-training
/// plus linear evaluation on Fashion-MNIST takes 5-15 minutes on a 2-core CPU with bfloat16
/// units; <c>cpu-long</c> trains the same model 5 epochs (15-35 minutes on 2 cores, 45 minutes to two hours for the three kinds)
/// and scores it every epoch, for curves of AAVAE, VAE and AE at the same budget (<c>aavae plot</c>).
/// <para>The decoder: the reference builds <c>decoder50</c> whatever the encoder (vae.py's
/// <c>--decoder_name</c> default), so <c>paper</c> and <c>reference</c> do too; <c>cpu-small</c>
/// pairs each encoder with its own decoder (resnet18 -> decoder18), which keeps a small run small.</para>
/// </summary>
public static class Presets
{
    public static IReadOnlyList<string> Names { get; } = ["paper", "reference", "cpu-small", "cpu-long"];

    /// <summary>What each preset is for, one line each, as help texts print it.</summary>
    public static string Describe(string preset) => preset switch
    {
        "paper" => "the paper's CIFAR-10 run: AAVAE, resnet50/decoder50, batch 256, lr 2.5e-4, warm-up 10, val_samples 16, 3,200 epochs; for GPUs",
        "reference" => "vae.py's argparse defaults: a VAE, batch 128, lr 1e-3, warm-up 20",
        "cpu-small" => "Fashion-MNIST pre-training and linear evaluation in 5-15 minutes on a 2-core CPU with bf16 units (width 32, bf16-mixed)",
        "cpu-long" => "the same model 5 epochs, 15-35 minutes, scored every epoch: the curves of aavae plot",
        _ => throw new OptionException("Preset", $"{preset}: expected one of {string.Join(", ", Names)}"),
    };

    /// <summary>vae.py's and ae.py's <c>--decoder_name</c> default.</summary>
    public const string ReferenceDecoder = "decoder50";

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
            options = options with { WeightDecay = 1e-6, WarmupEpochs = 10 };
        return options;
    }

    public static PretrainOptions Get(string name) => name switch
    {
        "paper" => new PretrainOptions(),
        "reference" => new PretrainOptions
        {
            Model = new ModelOptions { Kind = ModelKind.Vae, Decoder = ReferenceDecoder },
            Denoising = false,
            KlCoeff = VaeObjective.ReferenceKlCoeff,
            ValSamples = 1,
            LearningRate = 1e-3,
            WarmupEpochs = 20,
            BatchSize = 128,
        },
        "cpu-small" => CpuSmall,
        "cpu-long" => CpuSmall with
        {
            MaxEpochs = CpuLongEpochs,
            KnnEvery = CpuLongProbeEvery,
            LinearProbeEvery = CpuLongProbeEvery,
            CheckpointEvery = CpuLongProbeEvery,
        },
        _ => throw new OptionException("Preset", $"{name}: expected one of {string.Join(", ", Names)}"),
    };

    /// <summary>
    /// Chosen on the 5,000-image validation split for accuracy per CPU-minute on 2 cores
    /// (docs/results.md's ablation): 3x the reference's learning rate with one warm-up epoch and
    /// cosine decay over 2 epochs; the online probe and k-NN off (a quarter of an epoch and a whole
    /// encoding of the training split, and neither is the accuracy reported). Width 32 (256
    /// features) in bf16-mixed where the CPU has bfloat16 units: at width 16 every setting that fitted in
    /// 15 minutes stopped near 85%, and bf16 buys the wider encoder's time back.
    /// </summary>
    private static PretrainOptions CpuSmall { get; } = new()
    {
        Model = new ModelOptions { Encoder = "resnet18", Width = 32, LatentDim = 64 },
        Precision = Precision.Auto,
        MaxEpochs = 2,
        WarmupEpochs = 1,
        Decay = DecayKind.Cosine,
        BatchSize = 128,
        LearningRate = 3e-3,
        ValSamples = 1,
        KnnEvery = 0,
        OnlineFt = false,
        CheckpointEvery = 1,
    };

    /// <summary>
    /// <c>cpu-long</c>: <c>cpu-small</c>'s model and optimiser for 5 epochs, the 35 minutes of its
    /// earlier width-16 float32 form (10 epochs) on the slower of the project's 2-core machines with
    /// bfloat16 units (15 on the faster), so that AAVAE, VAE and AE at the same budget take at most
    /// about two hours together; a point of each curve every epoch.
    /// </summary>
    private const int CpuLongEpochs = 5, CpuLongProbeEvery = 1;

    /// <summary>The paper's set-ups: AAVAE denoises with no KL term; the VAE keeps the KL and sees the original; the AE sees the original.</summary>
    public static PretrainOptions WithKind(PretrainOptions options, ModelKind kind) => options with
    {
        Model = options.Model with { Kind = kind },
        Denoising = kind == ModelKind.Aavae,
        KlCoeff = kind == ModelKind.Aavae ? 0 : VaeObjective.ReferenceKlCoeff,
    };
}

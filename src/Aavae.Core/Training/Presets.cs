using Aavae.Models;

namespace Aavae.Training;

/// <summary>
/// Named starting points for a run; options typed on the command line override them.
/// <c>paper</c> is the reference's defaults (resnet50, width 64, 3,200 epochs): the setting for
/// GPUs. <c>cpu-small</c> is the same architecture family sized so that pre-training plus linear
/// evaluation on Fashion-MNIST fits in about 15 minutes on a 2-core CPU.
/// </summary>
public static class Presets
{
    public static IReadOnlyList<string> Names { get; } = ["paper", "cpu-small"];

    public static PretrainOptions Get(string name) => name switch
    {
        "paper" => new PretrainOptions(),
        "cpu-small" => new PretrainOptions
        {
            Model = new ModelOptions { Encoder = "resnet18", Width = 16, LatentDim = 64 },
            MaxEpochs = 2,
            WarmupEpochs = 1,
            BatchSize = 128,
            KnnEvery = 1,
            OnlineFt = true,
            CheckpointEvery = 1,
        },
        _ => throw new ArgumentException($"--preset {name}: expected one of {string.Join(", ", Names)}"),
    };

    /// <summary>The paper's set-ups: AAVAE denoises with no KL term; the VAE keeps the KL and sees the original; the AE sees the original.</summary>
    public static PretrainOptions WithKind(PretrainOptions options, ModelKind kind) => options with
    {
        Model = options.Model with { Kind = kind },
        Denoising = kind == ModelKind.Aavae,
        KlCoeff = kind == ModelKind.Aavae ? 0 : 0.1,
    };
}

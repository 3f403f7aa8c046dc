using Aavae.Checkpoints;
using Aavae.Configuration;
using Aavae.Data;
using Aavae.Models;
using Aavae.Runtime;
using Aavae.Training;
using static TorchSharp.torch;

using Aavae.Evaluation;
using Aavae.Runs;

namespace Aavae.Jobs;

/// <summary>
/// Where the encoder to judge comes from, for <c>linear-eval</c>, <c>knn</c> and <c>embed</c>: the
/// checkpoint, the data it is judged on, the device and precision it computes in.
/// </summary>
public sealed record EncoderSource
{
    /// <summary>A run folder means its last checkpoint.</summary>
    [Setting("a run folder, this project's .ckpt, a published Lightning .ckpt, a torch.save state_dict or .safetensors", Aliases = ["--ckpt_path"])]
    public string? Checkpoint { get; init; }
    /// <summary>Null: the data set the checkpoint says it was trained on, else the shipped Fashion-MNIST.</summary>
    [Setting("fashion-mnist, cifar10, stl10, imagenet, or folder: pictures under --data-dir with their classes (default: the checkpoint's)")]
    public string? Dataset { get; init; }
    [Setting("folder holding the data set (default: the checkpoint's, or the shipped Fashion-MNIST)", Aliases = ["--data_path"])]
    public string? DataDir { get; init; }
    /// <summary>Null: a picture folder's classes are its sub-folders (under <c>train/</c>, <c>val/</c> and <c>test/</c> when it has them).</summary>
    [Setting("--dataset folder: a CSV of path (relative to --data-dir) and label for the pictures (default: one sub-folder per class)")]
    public string? Labels { get; init; }
    [Setting("--dataset folder: where the decoded pictures are cached (default: $XDG_CACHE_HOME/aavae/pictures, else ~/.cache/aavae/pictures)")]
    public string? CacheDir { get; init; }
    [Setting("auto (CUDA when available), cpu, cuda or cuda:N")]
    public DeviceChoice Device { get; init; } = DeviceChoice.Auto;
    [Setting("32, bf16-mixed (the encoder's convolutions in bfloat16, features float32: faster than float32 with AMX or on AMD's AVX512-BF16) or auto (bf16-mixed on such a CPU, 32 elsewhere, Intel's AVX512-BF16 without AMX included); 16-mixed on CUDA")]
    public Precision Precision { get; init; } = Precision.Full32;

    /// <summary>The checkpoint file: a run folder's last one.</summary>
    public string CheckpointPath => RunFolder.ResolveCheckpoint(Checkpoint ?? throw new OptionException(nameof(Checkpoint), "is required"));

    /// <summary>
    /// The checkpoint's weights and the data they are judged on: the data set asked for, else the
    /// one the checkpoint says it was trained on, else the shipped Fashion-MNIST.
    /// </summary>
    public (PretrainedWeights Weights, DataModule Data) Load()
    {
        var weights = PretrainedWeights.Read(CheckpointPath, Dataset is null || DatasetInfo.Get(Dataset).IsFolder ? null : DatasetInfo.Get(Dataset));
        try
        {
            return (weights, CheckpointEncoder.DataFor(weights, Dataset, DataDir, Labels, CacheDir));
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>One line on what was loaded: the checkpoint, its encoder and the data.</summary>
    public static string Describe(PretrainedWeights weights, DataModule data)
    {
        var m = weights.Options;
        return $"checkpoint {weights.Path} ({weights.Format.Name()}): {m.Encoder} encoder, width {m.Width}, {m.Stem.Name()} stem, latent {m.LatentDim}; data {data.Info.Name}";
    }

    /// <summary>The checkpoint's encoder on this source's device and precision, checked by the guard; <paramref name="notes"/> hears what it ignored or rerouted.</summary>
    public ResNetEncoder BuildEncoder(PretrainedWeights weights, Action<string>? notes = null) =>
        CheckpointEncoder.Build(weights, Device.Resolve(), notes, precision: Precision);
}

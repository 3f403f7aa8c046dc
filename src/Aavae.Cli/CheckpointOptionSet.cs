using System.CommandLine;
using Aavae.Checkpoints;
using Aavae.Data;
using Aavae.Evaluation;
using Aavae.Models;
using Aavae.Training;
using static TorchSharp.torch;

namespace Aavae.Cli;

/// <summary>The options of the commands that start from a checkpoint: which one, which data, which device.</summary>
internal sealed class CheckpointOptionSet
{
    public Option<string?> Checkpoint { get; } = CliOptions.Create<string?>("--checkpoint", "a run folder, this project's .ckpt, a published Lightning .ckpt, a torch.save state_dict or .safetensors", null);
    public Option<string?> Dataset { get; } = CliOptions.Create<string?>("--dataset", "fashion-mnist, cifar10, stl10 or imagenet (default: the checkpoint's)", null);
    public Option<string?> DataDir { get; } = CliOptions.Create<string?>("--data-dir", "folder holding the data set (default: the checkpoint's, or the shipped Fashion-MNIST)", null);
    public Option<int> BatchSize { get; } = CliOptions.Create("--batch-size", "images per batch", 256);
    public Option<string> Device { get; } = CliOptions.Device();
    public Option<string> Precision { get; } = CliOptions.Create("--precision", "32 or bf16-mixed (the encoder's convolutions in bfloat16, features float32: faster on CPUs with AVX512-BF16 or AMX); 16-mixed on CUDA", "32");

    /// <param name="required">False for linear-eval, whose baselines need no checkpoint.</param>
    public CheckpointOptionSet(bool required = true)
    {
        Checkpoint.Required = required;
        Checkpoint.DefaultValueFactory = null;
        DataDir.Aliases.Add("--data_path");
        // The reference's linear_eval.py names the pre-trained checkpoint --ckpt_path.
        Checkpoint.Aliases.Add("--ckpt_path");
    }

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Checkpoint, Dataset, DataDir, BatchSize, Device, Precision }) command.Options.Add(o);
    }

    /// <summary>A run folder means its last checkpoint.</summary>
    public static string ResolvePath(string checkpoint) => RunFolder.ResolveCheckpoint(checkpoint);

    /// <summary>
    /// The checkpoint's weights and the data they are judged on: the data set asked for, else the
    /// one the checkpoint says it was trained on, else the shipped Fashion-MNIST.
    /// </summary>
    public (PretrainedWeights Weights, DataModule Data) Load(ParseResult r)
    {
        var path = ResolvePath(r.GetValue(Checkpoint) ?? throw new ArgumentException("--checkpoint is required"));
        string? asked = r.GetValue(Dataset);
        var weights = PretrainedWeights.Read(path, asked is null ? null : DatasetInfo.Get(asked));
        try
        {
            var data = CheckpointEncoder.DataFor(weights, asked, r.GetValue(DataDir));
            var m = weights.Options;
            Console.WriteLine($"checkpoint {path} ({weights.Format}): {m.Encoder} encoder, width {m.Width}, {m.Stem} stem, latent {m.LatentDim}; data {data.Info.Name}");
            return (weights, data);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>The checkpoint's encoder on <paramref name="device"/> in the precision asked for, checked by the guard; what it ignored or rerouted is printed.</summary>
    public ResNetEncoder BuildEncoder(PretrainedWeights weights, Device device, ParseResult r) =>
        CheckpointEncoder.Build(weights, device, note => Console.Error.WriteLine($"aavae: {note}"),
            precision: Aavae.Runtime.Precisions.Parse(r.GetValue(Precision)!));
}

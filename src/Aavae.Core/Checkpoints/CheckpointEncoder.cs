using Aavae.Runtime;
using Aavae.Augmentation;
using Aavae.Evaluation;
using Aavae.Configuration;
using Aavae.Data;
using Aavae.Kernels;
using Aavae.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Checkpoints;

/// <summary>
/// What judging a checkpoint's encoder takes, as the <c>linear-eval</c>, <c>knn</c> and <c>embed</c>
/// commands do it: the data it is judged on, its encoder with checked convolutions, a split by
/// name, and the features of a user's own array.
/// </summary>
public static class CheckpointEncoder
{
    /// <summary>
    /// The data a checkpoint is judged on: <paramref name="dataset"/> when given, else the data set it
    /// says it was trained on, else the shipped Fashion-MNIST; its images must have the model's size.
    /// The data folder is <paramref name="dataDir"/>, else the checkpoint's own for its own data set.
    /// </summary>
    /// <param name="labels">A picture folder's CSV of path and label; null: its layout (a sub-folder per class).</param>
    /// <param name="cacheDir">Where a picture folder's decoded pictures are cached; null: the user's cache.</param>
    public static DataModule DataFor(PretrainedWeights weights, string? dataset = null, string? dataDir = null, string? labels = null, string? cacheDir = null)
    {
        var name = dataset ?? weights.TrainedOn ?? DatasetInfo.FashionMnist.Name;
        var info = DatasetInfo.Get(name);
        var dir = dataDir ?? (name == weights.TrainedOn ? weights.TrainedDataDir : null);
        if (info.IsFolder)
        {
            // A folder is seen at the encoder's own size and stem, normalised as the encoder was trained.
            var folder = new DataOptions { Dataset = info, DataDir = dir, CacheDir = cacheDir };
            return PictureFolderData.LoadLabelled(folder, labels, weights.Options.InputHeight, weights.Options.Stem, weights.TrainedData?.Normalization, seed: 0).Data;
        }
        weights.CheckImageSize(info);
        return DataModule.Load(info.Name, dir);
    }

    /// <summary>Refuses a precision an encoder cannot compute in on <paramref name="device"/>: float16 is for CUDA.</summary>
    public static void CheckPrecision(Precision precision, Device device) =>
        OptionException.Check(precision != Precision.Fp16Mixed || device.type == DeviceType.CUDA, nameof(Precision),
            "16-mixed (float16) runs on CUDA only; on a CPU use bf16-mixed");

    /// <summary>
    /// The checkpoint's encoder on <paramref name="device"/> in eval mode, each BatchNorm folded into
    /// its convolution, the convolutions checked by the guard (features must be right too, not only
    /// gradients). <paramref name="notes"/> hears the encoder keys the checkpoint had and the encoder
    /// ignored, and any rerouted convolution.
    /// </summary>
    /// <param name="format">The layout the encoder computes in; channels-last is the faster on CPUs (bench/NOTES.md), features are the same.</param>
    /// <param name="precision">bf16-mixed runs the convolutions in bfloat16 (features stay float32); 16-mixed is for CUDA only.</param>
    public static ResNetEncoder Build(PretrainedWeights weights, Device device, Action<string>? notes = null, MemoryFormat format = MemoryFormat.ChannelsLast,
        Precision precision = Precision.Full32)
    {
        CheckPrecision(precision, device);
        var encoder = weights.BuildEncoder(out var report);
        try
        {
            if (report.Unexpected.Count > 0) notes?.Invoke($"unexpected encoder keys (ignored): {string.Join(", ", report.Unexpected)}");
            if (PrepareForEvaluation(encoder, encoder, device, format, precision, notes).Summary is { } found) notes?.Invoke(found);
            return encoder;
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Puts <paramref name="network"/> (the encoder, or a whole model around it) on
    /// <paramref name="device"/> in <paramref name="format"/> and <paramref name="precision"/>, in
    /// eval mode with the encoder's BatchNorms folded into its convolutions, and has the guard check
    /// the convolutions as they will compute; refuses a CPU where one is wrong beyond repair.
    /// </summary>
    /// <param name="notes">Told of each call the guard reroutes when the encoder first meets it.</param>
    internal static KernelReport PrepareForEvaluation(nn.Module network, ResNetEncoder encoder, Device device, MemoryFormat format, Precision precision,
        Action<string>? notes = null)
    {
        network.to(device);
        ChannelsLast.Apply(network, format);
        MixedPrecision.Apply(network, precision.On(device));
        network.eval();
        BatchNormFolding.Fold(encoder);
        var check = KernelGuard.Shared.Protect(network, device, notes);
        if (check.Unfixable.Any()) throw new KernelCheckException(check.Summary!);
        return check;
    }

    /// <summary>A linear-evaluation split by name: train, val or test.</summary>
    public static IImageSource Split(DataModule data, string name) => name.ToLowerInvariant() switch
    {
        "train" => data.Train,
        "val" => data.Val,
        "test" => data.Test,
        _ => throw new OptionException("Split", $"{name}: expected train, val or test"),
    };

    /// <summary>Features of a caller's own normalised float32 images [N, 3, H, W], in batches, on the CPU as [N, h].</summary>
    public static Tensor EncodeArray(ResNetEncoder encoder, float[] data, long[] shape, int inputHeight, int batch, Device device, string what)
    {
        if (shape.Length != 4 || shape[1] != 3 || shape[2] != inputHeight || shape[3] != inputHeight)
            throw new InvalidDataException($"{what}: expected a float32 array N x 3 x {inputHeight} x {inputHeight}, got [{string.Join(", ", shape)}]");
        int nonFinite = data.Count(v => !float.IsFinite(v));
        if (nonFinite > 0) throw new InvalidDataException($"{what}: {nonFinite} of its values are NaN or infinite; expected normalised pixels");
        encoder.eval();
        using var scope = NewDisposeScope();
        var all = tensor(data).view(shape);
        var chunks = new List<Tensor>();
        using (inference_mode())
            for (long start = 0; start < shape[0]; start += batch)
                chunks.Add(encoder.call(all.narrow(0, start, Math.Min(batch, shape[0] - start)).to(device)).cpu());
        return cat(chunks, 0).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>The features of <paramref name="split"/> through the evaluation view.</summary>
    public static FeatureSet Embed(ResNetEncoder encoder, DataModule data, IImageSource split, int batch, Device device, int? limitBatches = null) =>
        FeatureExtractor.Encode(encoder, split, new Views(data.Info, device), batch, limitBatches);
}

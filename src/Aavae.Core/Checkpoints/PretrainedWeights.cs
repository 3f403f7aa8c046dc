using System.Collections;
using System.Text.Json;
using Aavae.IO;
using Aavae.Data;
using Aavae.Models;
using TorchSharp.PyBridge;
using static TorchSharp.torch;
using Aavae.Options;

namespace Aavae.Checkpoints;

/// <summary>
/// Weights from any checkpoint a user may hold: this project's own (<c>.ckpt</c>), a published
/// PyTorch Lightning <c>.ckpt</c> of the reference, a plain <c>torch.save</c>d state_dict or a
/// <c>.safetensors</c> file, under the reference's names, with the architecture they fit.
/// </summary>
/// <remarks>It owns its tensors and frees them when disposed.</remarks>
public sealed class PretrainedWeights(string path, CheckpointFormat format, ModelOptions options, IReadOnlyDictionary<string, Tensor> stateDict) : IDisposable
{
    public string Path { get; } = path;
    public CheckpointFormat Format { get; } = format;
    /// <summary>The architecture the tensors fit.</summary>
    public ModelOptions Options { get; } = options;
    public IReadOnlyDictionary<string, Tensor> StateDict { get; } = stateDict;

    /// <summary>The data set the checkpoint records it was trained on, if it says.</summary>
    public string? TrainedOn { get; init; }
    public string? TrainedDataDir { get; init; }
    /// <summary>A picture folder's own mean and standard deviation, as its run measured them.</summary>
    public Normalization? TrainedNormalization { get; init; }

    /// <summary>
    /// The data set the weights were trained on, as views of new pictures need it: a named one, or a
    /// picture folder at the checkpoint's size with its own statistics; null when the file does not say.
    /// </summary>
    public DatasetInfo? TrainedData => TrainedOn is null ? null
        : DatasetInfo.Get(TrainedOn) is { IsFolder: true }
            ? DatasetInfo.ForFolder(Options.InputHeight, Options.Stem, TrainedNormalization
                ?? throw new InvalidDataException($"{Path}: trained on a picture folder, but its configuration has no normalisation"))
            : DatasetInfo.Get(TrainedOn);

    /// <param name="data">The data set it will see, when known: its image size is checked against the checkpoint's own.</param>
    public static PretrainedWeights Read(string path, DatasetInfo? data = null)
    {
        var weights = ReadAny(path, data);
        if (data is not null)
        {
            try { weights.CheckImageSize(data); }
            catch
            {
                weights.Dispose();
                throw;
            }
        }
        return weights;
    }

    /// <summary>Throws unless the model was built for <paramref name="data"/>'s image size.</summary>
    public void CheckImageSize(DatasetInfo data)
    {
        int h = Options.InputHeight;
        if (h != data.InputHeight)
            throw new InvalidDataException($"{Path}: the model was trained on {h}x{h} images; {data.Name} has {data.InputHeight}x{data.InputHeight}");
    }

    /// <summary>The first 8 bytes give the JSON header's length: checked against the file (and the format's 100 MB cap) before the reader allocates it.</summary>
    private static void CheckSafetensorsHeader(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> prefix = stackalloc byte[8];
        if (stream.Length < 10 || stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8)
            throw new InvalidDataException($"{path}: not a safetensors file ({stream.Length} bytes)");
        ulong header = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (header < 2 || header > (ulong)(stream.Length - 8) || header > 100_000_000)
            throw new InvalidDataException($"{path}: not a readable safetensors file (its header says {header} bytes, the file holds {stream.Length - 8} after the length)");
    }

    private static PretrainedWeights ReadAny(string path, DatasetInfo? data)
    {
        int? inputHeight = data?.InputHeight;
        bool? imageNetStem = data is null ? null : data.Stem == Stem.ImageNet;
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file");
        if (new FileInfo(path).Length == 0) throw new InvalidDataException($"{path}: empty file");
        if (!TorchFile.LooksLikeZip(path))
        {
            if (!path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"{path}: not a checkpoint (expected a torch.save zip archive, a Lightning .ckpt or a .safetensors file)");
            CheckSafetensorsHeader(path);
            Dictionary<string, Tensor> tensors;
            try { tensors = Safetensors.LoadStateDict(path); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new InvalidDataException($"{path}: not a readable safetensors file ({e.Message})");
            }
            return new PretrainedWeights(path, CheckpointFormat.Safetensors, ArchitectureInference.Infer(tensors, null, path, inputHeight, imageNetStem), tensors);
        }

        var content = TorchFile.Read(path);
        if (content["aavae"] is IDictionary aavae && aavae["config"] is string config)
        {
            // The run's configuration (the trainer's PretrainOptions): the networks and the data they saw.
            using var run = JsonDocument.Parse(config);
            var model = run.RootElement.GetProperty("model").Deserialize<ModelOptions>(SnakeCaseJson.Options)
                ?? throw new InvalidDataException($"{path}: the run's configuration has no model");
            return new PretrainedWeights(path, CheckpointFormat.Aavae, model, Tensors(content["state_dict"] as IDictionary, path))
            {
                TrainedOn = DataSetting(run.RootElement, "dataset"),
                TrainedDataDir = DataSetting(run.RootElement, "data_dir"),
                TrainedNormalization = run.RootElement.TryGetProperty("data", out var group) && group.ValueKind == JsonValueKind.Object
                    && group.TryGetProperty("normalization", out var n) && n.ValueKind == JsonValueKind.Object
                    ? n.Deserialize<Normalization>(SnakeCaseJson.Options) : null,
            };
        }
        if (content["state_dict"] is IDictionary lightning)
        {
            var hparams = content["hyper_parameters"] as IDictionary;
            var tensors = Tensors(lightning, path);
            return new PretrainedWeights(path, CheckpointFormat.Lightning, ArchitectureInference.Infer(tensors, hparams, path, inputHeight, imageNetStem), tensors)
            {
                TrainedOn = hparams?["dataset"] as string,
                TrainedDataDir = hparams?["data_path"] as string,
            };
        }
        var plain = Tensors(content, path);
        return new PretrainedWeights(path, CheckpointFormat.StateDict, ArchitectureInference.Infer(plain, null, path, inputHeight, imageNetStem), plain);
    }

    private static Dictionary<string, Tensor> Tensors(IDictionary? source, string path)
    {
        if (source is null) throw new InvalidDataException($"{path}: the checkpoint's state_dict is not a dictionary");
        var result = StateDicts.Select(source, "");
        if (result.Count == 0) throw new InvalidDataException($"{path}: no tensors in the state_dict");
        return result;
    }

    /// <summary>A data setting of a run's configuration: in its <c>data</c> group, or at the top level where versions before the groups wrote it.</summary>
    private static string? DataSetting(JsonElement run, string name) =>
        (run.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object && data.TryGetProperty(name, out var v)) || run.TryGetProperty(name, out v)
            ? v.ValueKind == JsonValueKind.String ? v.GetString() : null
            : null;

    /// <summary>Whether the checkpoint holds a decoder (an encoder-only file can still be evaluated).</summary>
    public bool HasDecoder => StateDict.ContainsKey("decoder.conv1.weight");

    /// <summary>The encoder alone, weights loaded from <c>encoder.*</c>; missing encoder keys are an error naming them.</summary>
    public ResNetEncoder BuildEncoder(out LoadReport report)
    {
        var encoder = new ResNetEncoder(Options.EncoderSpec, Options.Stem, Options.Width);
        try
        {
            report = StateDicts.Load(encoder, Select("encoder."), strict: false, Path);
            if (report.Missing.Count > 0)
                throw new InvalidDataException($"{Path}: encoder keys missing from the checkpoint: {string.Join(", ", report.Missing.Select(k => "encoder." + k))}");
            report = report with { Unexpected = report.Unexpected.Select(k => "encoder." + k).ToList() };
            return encoder;
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }

    /// <summary>Encoder, projection, decoder and log_scale; the online probe's weights are not part of the model.</summary>
    public AavaeModel BuildModel(out LoadReport report)
    {
        if (Options.Decoder is null && !HasDecoder)
            throw new InvalidDataException($"{Path}: holds no decoder weights; only the encoder can be used (linear-eval, knn, embed)");
        var model = new AavaeModel(Options);
        try
        {
            report = LoadInto(model, Path);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Copies encoder, projection, decoder and log_scale into <paramref name="model"/> (the online
    /// probe's weights are not part of the model); keys the model needs and the checkpoint lacks
    /// are an error naming them, keys it does not know are reported.
    /// </summary>
    public LoadReport LoadInto(AavaeModel model, string what)
    {
        var report = StateDicts.Load(model, StateDicts.Without(StateDict, StateDicts.OnlineProbePrefix), strict: false, what);
        if (report.Missing.Count > 0)
            throw new InvalidDataException($"{what}: keys missing from the checkpoint: {string.Join(", ", report.Missing.Take(5))}{(report.Missing.Count > 5 ? ", ..." : "")}");
        return report;
    }

    public Dictionary<string, Tensor> Select(string prefix) =>
        StateDict.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);

    public void Dispose()
    {
        foreach (var t in StateDict.Values) t.Dispose();
    }
}

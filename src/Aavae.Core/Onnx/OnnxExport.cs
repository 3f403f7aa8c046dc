using System.Globalization;
using Aavae.Checkpoints;
using Aavae.Data;
using Aavae.IO;
using static Aavae.Onnx.OnnxFields;

namespace Aavae.Onnx;

/// <summary>What an exported ONNX encoder holds, as its metadata says it.</summary>
/// <param name="InputSize">The evaluation transform's side: pictures are resized and centre-cropped to it.</param>
public sealed record OnnxEncoderInfo(string Encoder, int Width, string Stem, int InputSize, int FeatureDim, string Dataset, float[] Mean, float[] Std, bool BatchNormFolded);

/// <summary>
/// Writes a checkpoint's frozen encoder as an ONNX model (IR version 8, opset 17: the newest that
/// Debian's onnx 1.12 checker knows), for ONNX Runtime or ML.NET without libtorch. The model's
/// metadata carries what a consumer needs to feed it: the input size, and the data set's mean and
/// standard deviation the pictures are normalised with.
/// </summary>
public static class OnnxExport
{
    public const int Opset = 17;
    public const int IrVersion = 8;

    public static OnnxEncoderInfo Write(PretrainedWeights weights, DatasetInfo data, string path, bool foldBatchNorm = true)
    {
        using var encoder = weights.BuildEncoder(out _);
        return Write(encoder, weights.Options.InputHeight, data, path, Path.GetFileName(weights.Path), foldBatchNorm);
    }

    /// <param name="source">Named in the model's description: the checkpoint it came from.</param>
    public static OnnxEncoderInfo Write(Models.ResNetEncoder encoder, int inputHeight, DatasetInfo data, string path, string source, bool foldBatchNorm = true)
    {
        var info = new OnnxEncoderInfo(encoder.Spec.Name, encoder.Width, encoder.Stem.ToString().ToLowerInvariant(), inputHeight, encoder.FeatureDim, data.Name,
            data.Normalization.Mean, data.Normalization.Std, foldBatchNorm);
        var graph = EncoderGraph.Build(encoder, inputHeight, foldBatchNorm);
        var model = new OnnxMessage()
            .Int(ModelIrVersion, IrVersion)
            .Message(ModelOpsetImport, new OnnxMessage().String(OpsetDomain, "").Int(OpsetVersion, Opset))
            .String(ModelProducerName, "aavae")
            .String(ModelProducerVersion, typeof(OnnxExport).Assembly.GetName().Version?.ToString(3) ?? "0")
            .String(ModelDocString, $"AAVAE {info.Encoder} encoder (width {info.Width}, {info.Stem} stem) from {source}: input [batch, 3, {inputHeight}, {inputHeight}] normalised with the metadata's mean and std, output features [batch, {info.FeatureDim}]")
            .Message(ModelGraph, graph);
        foreach (var (key, value) in Metadata(info))
            model.Message(ModelMetadata, new OnnxMessage().String(EntryKey, key).String(EntryValue, value));
        var bytes = model.ToBytes();
        AtomicFile.Write(path, s => s.Write(bytes));
        return info;
    }

    public static IEnumerable<(string Key, string Value)> Metadata(OnnxEncoderInfo info)
    {
        static string List(float[] v) => string.Join(",", v.Select(x => x.ToString("R", CultureInfo.InvariantCulture)));
        yield return ("aavae.encoder", info.Encoder);
        yield return ("aavae.width", info.Width.ToString(CultureInfo.InvariantCulture));
        yield return ("aavae.stem", info.Stem);
        yield return ("aavae.input_size", info.InputSize.ToString(CultureInfo.InvariantCulture));
        yield return ("aavae.feature_dim", info.FeatureDim.ToString(CultureInfo.InvariantCulture));
        yield return ("aavae.dataset", info.Dataset);
        yield return ("aavae.mean", List(info.Mean));
        yield return ("aavae.std", List(info.Std));
        yield return ("aavae.batchnorm_folded", info.BatchNormFolded ? "true" : "false");
    }
}

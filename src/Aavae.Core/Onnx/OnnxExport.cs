using Aavae.Checkpoints;
using Aavae.Data;
using Aavae.IO;
using static Aavae.Onnx.OnnxFields;

namespace Aavae.Onnx;

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
            data.Normalization.Mean, data.Normalization.Std, foldBatchNorm, data.EvalShortSide, data.Grey);
        var graph = EncoderGraph.Build(encoder, inputHeight, foldBatchNorm);
        var model = new OnnxMessage()
            .Int(ModelIrVersion, IrVersion)
            .Message(ModelOpsetImport, new OnnxMessage().String(OpsetDomain, "").Int(OpsetVersion, Opset))
            .String(ModelProducerName, "aavae")
            .String(ModelProducerVersion, typeof(OnnxExport).Assembly.GetName().Version?.ToString(3) ?? "0")
            .String(ModelDocString, $"AAVAE {info.Encoder} encoder (width {info.Width}, {info.Stem} stem) from {source}: input [batch, 3, {inputHeight}, {inputHeight}] normalised with the metadata's mean and std, output features [batch, {info.FeatureDim}]")
            .Message(ModelGraph, graph);
        foreach (var (key, value) in info.ToMetadata())
            model.Message(ModelMetadata, new OnnxMessage().String(EntryKey, key).String(EntryValue, value));
        var bytes = model.ToBytes();
        AtomicFile.Write(path, s => s.Write(bytes));
        return info;
    }
}

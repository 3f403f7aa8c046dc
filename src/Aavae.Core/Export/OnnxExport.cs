using Aavae.Checkpoints;
using Aavae.Configuration;
using Aavae.Data;
using Aavae.IO;
using Aavae.Models;
using static Aavae.Export.OnnxFields;
using Aavae.Embedding;

namespace Aavae.Export;

/// <summary>
/// Writes a checkpoint's frozen encoder as an ONNX model (IR version 8, opset 17: the newest that
/// Debian's onnx 1.12 checker knows), for ONNX Runtime or ML.NET without libtorch; with the decoder,
/// the projection's latent mean and the decoder's reconstruction as two more outputs. The model's
/// metadata carries what a consumer needs to feed it: the input size, the resize and grey of the
/// evaluation transform, and the data set's mean and standard deviation.
/// </summary>
public static class OnnxExport
{
    public const int Opset = 17;
    public const int IrVersion = 8;

    /// <param name="withDecoder">Also the projection's mean (<c>latent_mean</c>) and the decoder's picture of it (<c>reconstruction</c>).</param>
    public static OnnxEncoderInfo Write(PretrainedWeights weights, DatasetInfo data, string path, bool foldBatchNorm = true, bool withDecoder = false)
    {
        if (!withDecoder)
        {
            using var encoder = weights.BuildEncoder(out _);
            return Write(encoder, weights.Options.InputHeight, data, path, Path.GetFileName(weights.Path), foldBatchNorm);
        }
        if (!weights.HasDecoder)
            throw new OptionException("WithDecoder", $"{weights.Path} holds encoder weights only: no projection and decoder to export");
        using var model = weights.BuildModel(out _);
        return Write(model, data, path, Path.GetFileName(weights.Path), foldBatchNorm);
    }

    /// <summary>The whole model for evaluation: features, the projection's latent mean and the decoder's reconstruction of it.</summary>
    /// <param name="source">Named in the model's description: the checkpoint it came from.</param>
    public static OnnxEncoderInfo Write(AavaeModel model, DatasetInfo data, string path, string source, bool foldBatchNorm = true)
    {
        bool training = model.training;
        model.eval();
        try
        {
            var o = model.Options;
            var g = new GraphBuilder(model.state_dict(), foldBatchNorm);
            EncoderGraph.Add(g, model.Encoder, "encoder.", "input");
            var mean = g.Node("Identity", [DecoderGraph.AddLatentMean(g, o.Kind, "features")], output: "latent_mean");
            g.Node("Identity", [DecoderGraph.AddDecoder(g, model.Decoder, mean)], output: "reconstruction");
            int size = o.InputHeight;
            var graph = g.ToGraph($"aavae_{model.Encoder.Spec.Name}_{model.Decoder.Spec.Name}", [("input", [null, 3, size, size])],
                [("features", [null, model.Encoder.FeatureDim]), ("latent_mean", [null, o.LatentDim]), ("reconstruction", [null, 3, size, size])]);
            return Save(model.Encoder, size, data, path, source, foldBatchNorm, graph,
                $", latent_mean [batch, {o.LatentDim}] and the {model.Decoder.Spec.Name}'s reconstruction of it [batch, 3, {size}, {size}] (normalised)");
        }
        finally
        {
            model.train(training);
        }
    }

    /// <param name="source">Named in the model's description: the checkpoint it came from.</param>
    public static OnnxEncoderInfo Write(ResNetEncoder encoder, int inputHeight, DatasetInfo data, string path, string source, bool foldBatchNorm = true)
    {
        var g = new GraphBuilder(encoder.state_dict(), foldBatchNorm);
        EncoderGraph.Add(g, encoder, "", "input");
        var graph = g.ToGraph($"aavae_{encoder.Spec.Name}_encoder", [("input", [null, 3, inputHeight, inputHeight])], [("features", [null, encoder.FeatureDim])]);
        return Save(encoder, inputHeight, data, path, source, foldBatchNorm, graph, "");
    }

    private static OnnxEncoderInfo Save(ResNetEncoder encoder, int inputHeight, DatasetInfo data, string path, string source, bool foldBatchNorm, OnnxMessage graph, string moreOutputs)
    {
        var info = new OnnxEncoderInfo(encoder.Spec.Name, encoder.Width, encoder.Stem.ToString().ToLowerInvariant(), inputHeight, encoder.FeatureDim, data.Name,
            data.Normalization.Mean, data.Normalization.Std, foldBatchNorm, data.EvalShortSide, data.Grey);
        var model = new OnnxMessage()
            .Int(ModelIrVersion, IrVersion)
            .Message(ModelOpsetImport, new OnnxMessage().String(OpsetDomain, "").Int(OpsetVersion, Opset))
            .String(ModelProducerName, "aavae")
            .String(ModelProducerVersion, typeof(OnnxExport).Assembly.GetName().Version?.ToString(3) ?? "0")
            .String(ModelDocString, $"AAVAE {info.Encoder} encoder (width {info.Width}, {info.Stem} stem) from {source}: input [batch, 3, {inputHeight}, {inputHeight}] normalised with the metadata's mean and std, output features [batch, {info.FeatureDim}]{moreOutputs}")
            .Message(ModelGraph, graph);
        foreach (var (key, value) in info.ToMetadata())
            model.Message(ModelMetadata, new OnnxMessage().String(EntryKey, key).String(EntryValue, value));
        var bytes = model.ToBytes();
        AtomicFile.Write(path, s => s.Write(bytes));
        return info;
    }
}

using Aavae.Checkpoints;
using Aavae.Configuration;
using Aavae.Data;
using Aavae.Export;
using Aavae.Training;
using Aavae.Runs;

namespace Aavae.Jobs;

/// <summary>
/// <c>aavae export</c> as one call: a checkpoint's state_dict under the reference's names for PyTorch
/// (<c>pt</c>, <c>safetensors</c>), or its encoder (and, asked, the decoder) as ONNX.
/// </summary>
public static class ExportJob
{
    /// <param name="checkpoint">A run folder or any checkpoint <see cref="PretrainedWeights.Read"/> accepts.</param>
    /// <param name="format">pt, safetensors or onnx.</param>
    /// <param name="dataset">ONNX only: whose mean and std go into the metadata; null: the checkpoint's, else Fashion-MNIST.</param>
    /// <returns>What was written, one line.</returns>
    public static string Run(string checkpoint, string format, string output, string? dataset = null, bool foldBatchNorm = true, bool withDecoder = false)
    {
        bool onnx = format.Equals("onnx", StringComparison.OrdinalIgnoreCase);
        var stateDictFormat = onnx ? ExportFormat.Pt : StateDictExport.ParseFormat(format);
        OptionException.Check(!withDecoder || onnx, "WithDecoder", "is for --format onnx (pt and safetensors exports hold the decoder already)");
        if (File.Exists(output)) throw new ArgumentException($"--output {output} already exists");
        using var weights = PretrainedWeights.Read(RunFolder.ResolveCheckpoint(checkpoint));
        if (onnx)
        {
            var data = dataset is not null && !DatasetInfo.Get(dataset).IsFolder ? DatasetInfo.Get(dataset)
                : weights.TrainedData ?? (dataset is null ? DatasetInfo.FashionMnist
                    : throw new OptionException("Dataset", $"folder: {weights.Path} was not trained on a picture folder, so it holds no folder statistics"));
            var info = OnnxExport.Write(weights, data, output, foldBatchNorm, withDecoder);
            return $"wrote {output}: ONNX opset {OnnxExport.Opset}, {info.Encoder} encoder (width {info.Width}), input [batch, 3, {info.InputSize}, {info.InputSize}] normalised with {info.Dataset}'s mean and std, features [batch, {info.FeatureDim}]" +
                (withDecoder ? $", latent_mean [batch, {weights.Options.LatentDim}], reconstruction [batch, 3, {info.InputSize}, {info.InputSize}]" : "");
        }
        int count = StateDictExport.Write(weights, output, stateDictFormat);
        return $"wrote {output}: {count} tensors ({weights.Options.Encoder}{(weights.HasDecoder ? "" : ", encoder only")})";
    }
}

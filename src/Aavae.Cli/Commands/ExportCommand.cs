using System.CommandLine;
using Aavae.Checkpoints;
using Aavae.Configuration;
using Aavae.Runtime;

namespace Aavae.Cli.Commands;

/// <summary><c>aavae export</c>: a checkpoint's model as a plain state_dict with the reference's names, for torch.load or safetensors.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var checkpoint = CliOptions.Create("--checkpoint", "a run folder or any checkpoint linear-eval accepts", "");
        checkpoint.Required = true;
        checkpoint.DefaultValueFactory = null;
        var format = CliOptions.Create("--format", "pt (torch.load), safetensors, or onnx (the frozen encoder for ONNX Runtime / ML.NET, no libtorch needed to run it)", "pt");
        var dataset = CliOptions.Create<string?>("--dataset", "onnx: the data set whose mean and std go into the model's metadata (default: the checkpoint's, else fashion-mnist)", null);
        var noFold = CliOptions.Create("--no-fold-batchnorm", "onnx: keep BatchNormalization nodes instead of folding them into the convolutions", false);
        var withDecoder = CliOptions.Create("--with-decoder", "onnx: also the projection's latent mean (output latent_mean) and the decoder's reconstruction of it (output reconstruction)", false);
        var output = CliOptions.Create("--output", "file to write", "");
        output.Aliases.Add("--out");
        output.Required = true;
        output.DefaultValueFactory = null;
        var command = new Command("export", "Write the model's state_dict (reference names) for PyTorch, or its encoder as ONNX");
        foreach (var o in new Option[] { checkpoint, format, dataset, noFold, withDecoder, output }) command.Options.Add(o);
        command.SetAction(r =>
        {
            TorchRuntime.EnsureLoaded();
            bool onnx = r.GetValue(format)!.Equals("onnx", StringComparison.OrdinalIgnoreCase);
            var fmt = onnx ? ExportFormat.Pt : StateDictExport.ParseFormat(r.GetValue(format)!);
            if (r.GetValue(withDecoder) && !onnx) throw new OptionException("--with-decoder", "is for --format onnx (pt and safetensors exports hold the decoder already)");
            var outPath = r.GetValue(output)!;
            if (File.Exists(outPath)) throw new ArgumentException($"--output {outPath} already exists");
            using var weights = PretrainedWeights.Read(Aavae.Training.RunFolder.ResolveCheckpoint(r.GetValue(checkpoint)!));
            if (onnx)
            {
                var data = Aavae.Data.DatasetInfo.Get(r.GetValue(dataset) ?? weights.TrainedOn ?? "fashion-mnist");
                bool decoder = r.GetValue(withDecoder);
                var info = Aavae.Onnx.OnnxExport.Write(weights, data, outPath, foldBatchNorm: !r.GetValue(noFold), withDecoder: decoder);
                Console.WriteLine($"wrote {outPath}: ONNX opset {Aavae.Onnx.OnnxExport.Opset}, {info.Encoder} encoder (width {info.Width}), input [batch, 3, {info.InputSize}, {info.InputSize}] normalised with {info.Dataset}'s mean and std, features [batch, {info.FeatureDim}]" +
                    (decoder ? $", latent_mean [batch, {weights.Options.LatentDim}], reconstruction [batch, 3, {info.InputSize}, {info.InputSize}]" : ""));
                return 0;
            }
            int count = StateDictExport.Write(weights, outPath, fmt);
            Console.WriteLine($"wrote {outPath}: {count} tensors ({weights.Options.Encoder}{(weights.HasDecoder ? "" : ", encoder only")})");
            return 0;
        });
        return command;
    }
}

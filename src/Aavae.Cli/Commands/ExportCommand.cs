using System.CommandLine;
using Aavae.Jobs;
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
            Console.WriteLine(ExportJob.Run(r.GetValue(checkpoint)!, r.GetValue(format)!, r.GetValue(output)!, r.GetValue(dataset), !r.GetValue(noFold), r.GetValue(withDecoder)));
            return 0;
        });
        return command;
    }
}

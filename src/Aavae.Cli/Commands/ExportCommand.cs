using System.CommandLine;
using Aavae.Checkpoints;
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
        var format = CliOptions.Create("--format", "pt (torch.load) or safetensors", "pt");
        var output = CliOptions.Create("--output", "file to write", "");
        output.Aliases.Add("--out");
        output.Required = true;
        output.DefaultValueFactory = null;
        var command = new Command("export", "Write the model's state_dict (reference names) for PyTorch");
        foreach (var o in new Option[] { checkpoint, format, output }) command.Options.Add(o);
        command.SetAction(r =>
        {
            TorchRuntime.EnsureLoaded();
            var fmt = StateDictExport.ParseFormat(r.GetValue(format)!);
            var outPath = r.GetValue(output)!;
            if (File.Exists(outPath)) throw new ArgumentException($"--output {outPath} already exists");
            using var weights = PretrainedWeights.Read(CheckpointOptionSet.ResolvePath(r.GetValue(checkpoint)!));
            int count = StateDictExport.Write(weights, outPath, fmt);
            Console.WriteLine($"wrote {outPath}: {count} tensors ({weights.Options.Encoder}{(weights.HasDecoder ? "" : ", encoder only")})");
            return 0;
        });
        return command;
    }
}

using System.CommandLine;
using Aavae.Checkpoints;
using Aavae.IO;
using Aavae.Runtime;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

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
            var fmt = r.GetValue(format)!.ToLowerInvariant();
            if (fmt is not ("pt" or "safetensors")) throw new ArgumentException($"--format {fmt}: expected pt or safetensors");
            var outPath = r.GetValue(output)!;
            if (File.Exists(outPath)) throw new ArgumentException($"--output {outPath} already exists");
            using var weights = PretrainedWeights.Read(CheckpointOptionSet.ResolvePath(r.GetValue(checkpoint)!));
            // The module must stay alive while its tensors are written: its finalizer frees them.
            using var module = ModelOf(weights, out var prefix);
            var stateDict = module.state_dict().ToDictionary(kv => prefix + kv.Key, kv => kv.Value);
            if (fmt == "pt") TorchFile.Write(outPath, stateDict.ToDictionary(kv => kv.Key, kv => (object)kv.Value));
            else AtomicFile.Write(outPath, s => Safetensors.SaveStateDict(s, stateDict, leaveOpen: true));
            Console.WriteLine($"wrote {outPath}: {stateDict.Count} tensors ({weights.Options.Encoder}{(weights.HasDecoder ? "" : ", encoder only")})");
            return 0;
        });
        return command;
    }

    /// <summary>The whole model when the checkpoint has a decoder, else the encoder (its keys then take <c>encoder.</c>); the online probe is left out.</summary>
    private static TorchSharp.torch.nn.Module ModelOf(PretrainedWeights weights, out string prefix)
    {
        prefix = weights.HasDecoder ? "" : "encoder.";
        return weights.HasDecoder ? weights.BuildModel(out _) : weights.BuildEncoder(out _);
    }
}

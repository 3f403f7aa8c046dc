using System.CommandLine;
using Aavae.Models;
using Aavae.Runtime;
using TorchSharp;

namespace Aavae.Cli.Commands;

/// <summary><c>aavae summary</c>: builds a model, runs one batch through it and prints sizes and shapes.</summary>
internal static class SummaryCommand
{
    public static Command Create()
    {
        var model = new SettingOptions(typeof(ModelOptions));
        var device = CliOptions.Device();
        var command = new Command("summary", "Build a model and print its components, parameter counts and shapes");
        model.AddTo(command);
        command.Options.Add(device);
        command.SetAction(r =>
        {
            var options = model.Apply(r, new ModelOptions());
            options.Validate();
            var dev = DeviceChoice.Resolve(r.GetValue(device)!);
            using var net = new AavaeModel(options);
            net.to(dev);
            var s = ModelSummary.Measure(net, dev);
            Console.WriteLine($"{options.Kind.ToString().ToLowerInvariant()} model: {options.Encoder} encoder, {options.DecoderName} decoder, {options.Stem.Name()} stem, width {options.WidthLabel}, latent {options.LatentDim}, on {dev}");
            foreach (var c in s.Components)
                Console.WriteLine($"  {c.Name,-12} {c.Parameters,14:N0} parameters");
            Console.WriteLine($"  {"total",-12} {s.TotalParameters,14:N0} parameters");
            Console.WriteLine($"  input {Shape(s.InputShape)} -> features {Shape(s.FeatureShape)} -> latent {Shape(s.LatentShape)} -> reconstruction {Shape(s.ReconstructionShape)}");
            return 0;
        });
        return command;
    }

    private static string Shape(long[] shape) => $"[{string.Join(", ", shape)}]";
}

using System.CommandLine;
using Aavae.Inference;
using Aavae.Jobs;
using Aavae.Runtime;

namespace Aavae.Cli.Commands;

/// <summary>
/// <c>aavae embed</c>: the encoder's features of a data split (evaluation view), of a user's
/// own normalised float32 array, or of PNG / JPEG pictures, as <c>.npy</c> files that <c>numpy.load</c> reads.
/// </summary>
internal static class EmbedCommand
{
    public static Command Create()
    {
        var source = new SettingOptions(typeof(EncoderSource), required: s => s.Name == nameof(EncoderSource.Checkpoint));
        var settings = new SettingOptions(typeof(EmbedOptions));
        var input = CliOptions.Create<string?>("--input", "encode this float32 N x 3 x H x W .npy (already normalised) instead of a data set", null);
        var images = new Option<string[]>("--images")
        {
            Description = "encode these PNG / JPEG files, or every picture in these folders (sorted), through the checkpoint's evaluation transform; their paths go to <name>_files.txt",
            AllowMultipleArgumentsPerToken = true,
        };
        var output = CliOptions.Create("--output", "features .npy to write (float32 N x h); labels go to <name>_labels.npy", "");
        output.Aliases.Add("--out");
        output.Required = true;
        output.DefaultValueFactory = null;
        var command = new Command("embed", "Write the frozen encoder's features as NumPy .npy files");
        source.AddTo(command);
        settings.AddTo(command);
        foreach (var o in new Option[] { input, images, output }) command.Options.Add(o);
        command.SetAction(r =>
        {
            TorchRuntime.EnsureLoaded();
            Console.WriteLine(EmbedJob.Run(source.Apply(r, new EncoderSource()), settings.Apply(r, new EmbedOptions()),
                r.GetValue(output)!, r.GetValue(input), r.GetValue(images), new ConsoleObserver(), ConsoleObserver.Note));
            return 0;
        });
        return command;
    }
}

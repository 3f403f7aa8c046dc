using System.CommandLine;
using Aavae.Inference;
using Aavae.Jobs;
using Aavae.Runtime;

namespace Aavae.Cli.Commands;

/// <summary><c>aavae neighbors</c>: the pictures most like each query, or the near-duplicates, among a folder's pictures (<see cref="NeighborsJob"/>).</summary>
internal static class NeighborsCommand
{
    public static Command Create()
    {
        var source = new SettingOptions(typeof(EncoderSource), include: s => s.Name is nameof(EncoderSource.Checkpoint) or nameof(EncoderSource.Device) or nameof(EncoderSource.Precision));
        var settings = new SettingOptions(typeof(NeighborsOptions));
        var images = new Option<string[]>("--images") { Description = "the pictures to search: files, or every picture under these folders (names relative to the folder when one is named)", AllowMultipleArgumentsPerToken = true };
        var features = CliOptions.Create<string?>("--features", "search the features an earlier `embed --images` wrote (F.npy, with F_files.txt beside it) instead of embedding --images again", null);
        var query = new Option<string[]>("--query") { Description = "pictures to find the neighbours of", AllowMultipleArgumentsPerToken = true };
        var output = CliOptions.Create("--out", "JSON file to write; the grid of queries and neighbours goes beside it as a PNG", "");
        output.Aliases.Add("--output");
        output.Required = true;
        output.DefaultValueFactory = null;
        var command = new Command("neighbors", "Find the pictures most like a query, or the near-duplicates, by the encoder's cosine similarity");
        command.Aliases.Add("neighbours");
        source.AddTo(command);
        settings.AddTo(command);
        foreach (var o in new Option[] { images, features, query, output }) command.Options.Add(o);
        command.SetAction(r =>
        {
            TorchRuntime.EnsureLoaded();
            Console.WriteLine(NeighborsJob.Run(source.Apply(r, new EncoderSource()), r.GetValue(images), r.GetValue(features), r.GetValue(query) ?? [],
                settings.Apply(r, new NeighborsOptions()), r.GetValue(output)!, new ConsoleObserver()));
            return 0;
        });
        return command;
    }
}

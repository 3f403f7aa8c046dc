using System.CommandLine;
using Aavae.Augmentation;
using Aavae.Data;
using Aavae.Runtime;
using Aavae.Training;
using Aavae.Visualization;
using static TorchSharp.torch;
using Aavae.Options;

namespace Aavae.Cli.Commands;

/// <summary><c>aavae show-views</c>: a PNG of original images and the augmented views the encoder is fed.</summary>
internal static class ShowViewsCommand
{
    public static Command Create()
    {
        // pretrain's own data set and view settings, so that an ablated view can be looked at before it is trained on.
        var views = new SettingOptions(typeof(PretrainOptions), include: s => (s.Path[0].PropertyType == typeof(DataOptions) && s.Name != nameof(DataOptions.BatchSize))
            || (s.Path[0].PropertyType == typeof(AugmentationOptions) && s.Name != nameof(AugmentationOptions.Denoising)));
        var grid = new SettingOptions(typeof(ViewGridOptions));
        var output = CliOptions.Create("--output", "PNG file to write", "views.png");
        output.Aliases.Add("--out");
        var overwrite = CliOptions.Create("--overwrite", "replace --output if it exists", false);
        var command = new Command("show-views", "Write a PNG grid of originals and their SimCLR views");
        views.AddTo(command);
        grid.AddTo(command);
        command.Options.Add(output);
        command.Options.Add(overwrite);
        command.SetAction(r =>
        {
            var path = r.GetValue(output)!;
            // A picture already there is someone's: kept unless replacing it is asked for.
            if (File.Exists(path) && !r.GetValue(overwrite)) throw new ArgumentException($"--output {path} already exists; pass another --output or --overwrite");
            var options = views.Apply(r, new PretrainOptions { Data = new() { Dataset = DatasetInfo.FashionMnist } });
            var layout = grid.Apply(r, new ViewGridOptions());
            options.Validate();
            layout.Validate();
            TorchRuntime.EnsureLoaded();
            var folder = options.Data.Dataset.IsFolder
                ? PictureFolderData.Load(options.Data, DatasetInfo.Folder.InputHeight, DatasetInfo.Folder.Stem, options.Seed, Console.WriteLine)
                : null;
            using var data = folder?.Data ?? DataModule.Load(options.Data.Dataset.Name, options.Data.DataDir);
            ViewGrid.WritePng(path, data, new Views(data.Info, CPU, options.Augmentation), layout);
            Console.WriteLine($"wrote {path}: first row {layout.Images} originals from {data.Train.Name}, then {layout.Views} SimCLR views of each");
            return 0;
        });
        return command;
    }
}

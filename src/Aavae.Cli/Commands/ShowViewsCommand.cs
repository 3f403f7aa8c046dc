using System.CommandLine;
using Aavae.Augmentation;
using Aavae.Data;
using Aavae.Runtime;
using Aavae.Visualization;
using static TorchSharp.torch;

namespace Aavae.Cli.Commands;

/// <summary><c>aavae show-views</c>: a PNG of original images and the augmented views the encoder is fed.</summary>
internal static class ShowViewsCommand
{
    public static Command Create()
    {
        var dataset = CliOptions.Create("--dataset", "fashion-mnist (shipped), cifar10, stl10 or imagenet", "fashion-mnist");
        var dataDir = CliOptions.Create<string?>("--data-dir", "folder holding the data set (default: the shipped Fashion-MNIST)", null);
        var output = CliOptions.Create("--output", "PNG file to write", "views.png");
        output.Aliases.Add("--out");
        var images = CliOptions.Create("--images", "number of images (columns)", 8);
        var views = CliOptions.Create("--views", "augmented views per image (rows after the originals)", 4);
        var seed = CliOptions.Create("--seed", "random seed for choosing images and augmentations", 0);
        // The same two settings pretrain takes, so an ablated view can be looked at before it is trained on.
        var cropScale = CliOptions.ForSetting<double?>(nameof(Training.PretrainOptions.CropScale), null);
        var jitter = CliOptions.ForSetting<double?>(nameof(Training.PretrainOptions.JitterStrength), null);
        var command = new Command("show-views", "Write a PNG grid of originals and their SimCLR views");
        foreach (var o in new Option[] { dataset, dataDir, output, images, views, seed, cropScale, jitter }) command.Options.Add(o);
        command.SetAction(r =>
        {
            int n = r.GetValue(images), v = r.GetValue(views);
            if (n < 1 || v < 1) throw new ArgumentException("--images and --views must be >= 1");
            TorchRuntime.EnsureLoaded();
            using var data = DataModule.Load(r.GetValue(dataset)!, r.GetValue(dataDir));
            // pretrain's defaults and checks, not a copy of them.
            var defaults = new Training.PretrainOptions();
            var options = defaults with { CropScale = r.GetValue(cropScale) ?? defaults.CropScale, JitterStrength = r.GetValue(jitter) };
            options.Validate();
            var pipeline = new Views(data.Info, CPU, options.CropScale, options.JitterStrength);
            var rng = new Random(r.GetValue(seed));
            var pick = Enumerable.Range(0, n).Select(_ => (long)rng.Next(data.Train.Count)).ToArray();
            using var scope = NewDisposeScope();
            var (batch, _) = data.Train.GetBatch(pick);
            var unit = pipeline.ToUnitRange(batch);
            var rows = new List<Tensor> { pipeline.Original(unit) };
            for (int i = 0; i < v; i++) rows.Add(pipeline.Augmented(unit, rng));
            var path = r.GetValue(output)!;
            ImageGrid.WritePng(path, rows, data.Info.Normalization);
            Console.WriteLine($"wrote {path}: first row {n} originals from {data.Train.Name}, then {v} SimCLR views of each");
            return 0;
        });
        return command;
    }
}

using System.CommandLine;
using Aavae.Augmentation;
using Aavae.Checkpoints;
using Aavae.Data;
using Aavae.Evaluation;
using Aavae.IO;
using Aavae.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Cli.Commands;

/// <summary>
/// <c>aavae embed</c>: the encoder's features of a data split (evaluation view), of a user's
/// own normalised float32 array, or of PNG / JPEG pictures (through <see cref="ImageEncoder"/>),
/// as <c>.npy</c> files that <c>numpy.load</c> reads.
/// </summary>
internal static class EmbedCommand
{
    public static Command Create()
    {
        var source = new CheckpointOptionSet();
        var split = CliOptions.Create("--split", "train, val or test (the linear-evaluation splits)", "test");
        var input = CliOptions.Create<string?>("--input", "encode this float32 N x 3 x H x W .npy (already normalised) instead of a data set", null);
        var output = CliOptions.Create("--output", "features .npy to write (float32 N x h); labels go to <name>_labels.npy", "");
        output.Aliases.Add("--out");
        output.Required = true;
        output.DefaultValueFactory = null;
        var limit = CliOptions.Create<int?>("--limit-batches", "encode at most N batches of the split", null);
        var images = new Option<string[]>("--images")
        {
            Description = "encode these PNG / JPEG files, or every picture in these folders (sorted), through the checkpoint's evaluation transform; their paths go to <name>_files.txt",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("embed", "Write the frozen encoder's features as NumPy .npy files");
        source.AddTo(command);
        foreach (var o in new Option[] { split, input, images, output, limit }) command.Options.Add(o);
        command.SetAction(r =>
        {
            TorchRuntime.EnsureLoaded();
            var outPath = r.GetValue(output)!;
            if (!outPath.EndsWith(".npy", StringComparison.Ordinal)) throw new ArgumentException($"--output {outPath}: expected a file name ending in .npy");
            if (File.Exists(outPath)) throw new ArgumentException($"--output {outPath} already exists");
            if (r.GetValue(limit) is < 1) throw new ArgumentException($"--limit-batches must be >= 1, got {r.GetValue(limit)}");
            var device = DeviceChoice.Resolve(r.GetValue(source.Device)!);
            int batch = r.GetValue(source.BatchSize);
            if (r.GetValue(images) is { Length: > 0 } pictures)
            {
                var files = PictureFiles(pictures);
                using var encoder = ImageEncoder.Load(CheckpointOptionSet.ResolvePath(r.GetValue(source.Checkpoint)!), r.GetValue(source.Dataset), r.GetValue(source.Device)!);
                var features = encoder.Embed(files, batch);
                Npy.Write(outPath, features.SelectMany(f => f).ToArray(), [features.Length, encoder.FeatureDim]);
                var listPath = outPath[..^4] + "_files.txt";
                AtomicFile.Write(listPath, s => s.Write(System.Text.Encoding.UTF8.GetBytes(string.Concat(files.Select(f => f + "\n")))));
                Console.WriteLine($"wrote {outPath} ({features.Length} x {encoder.FeatureDim} float32, {encoder.Dataset.Name} transform) and {listPath}");
                return 0;
            }
            if (r.GetValue(input) is { } npy)
            {
                using var weights = PretrainedWeights.Read(CheckpointOptionSet.ResolvePath(r.GetValue(source.Checkpoint)!));
                using var encoder = source.BuildEncoder(weights, device, r);
                var (array, shape) = Npy.ReadFloat32(npy);
                using var features = CheckpointEncoder.EncodeArray(encoder, array, shape, weights.Options.InputHeight, batch, device, npy);
                Npy.Write(outPath, features.data<float>().ToArray(), features.shape);
                Console.WriteLine($"wrote {outPath}: {features.shape[0]} x {features.shape[1]} float32 features of {npy}");
                return 0;
            }
            var (w, data) = source.Load(r);
            using (w)
            using (data)
            {
                var which = CheckpointEncoder.Split(data, r.GetValue(split)!);
                using var encoder = source.BuildEncoder(w, device, r);
                using var set = CheckpointEncoder.Embed(encoder, data, which, batch, device, r.GetValue(limit));
                var labelsPath = outPath[..^4] + "_labels.npy";
                Npy.Write(outPath, set.Features.contiguous().data<float>().ToArray(), set.Features.shape);
                Npy.Write(labelsPath, set.Labels.contiguous().data<long>().ToArray(), set.Labels.shape);
                Console.WriteLine($"wrote {outPath} ({set.Count} x {set.Features.shape[1]} float32) and {labelsPath} (int64) for {which.Name}");
            }
            return 0;
        });
        return command;
    }

    /// <summary>The files named, and the PNG / JPEG pictures under the folders named (sorted by path), in that order.</summary>
    private static List<string> PictureFiles(IEnumerable<string> paths)
    {
        var files = new List<string>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
                files.AddRange(Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                    .Where(ImageFolderSource.IsPicture).Order(StringComparer.Ordinal));
            else if (File.Exists(path)) files.Add(path);
            else throw new FileNotFoundException($"--images {path}: no such file or folder");
        }
        if (files.Count == 0) throw new ArgumentException($"--images {string.Join(" ", paths)}: no PNG or JPEG pictures found");
        return files;
    }
}

using Aavae.Runtime;
using Aavae.Checkpoints;
using Aavae.Data;
using Aavae.Evaluation;
using Aavae.Inference;
using Aavae.IO;
using Aavae.Progress;
using Aavae.Embedding;

namespace Aavae.Jobs;

/// <summary>
/// <c>aavae embed</c> as one call: the encoder's features as NumPy <c>.npy</c> files, of a data split
/// (evaluation view), of a user's own normalised float32 array, or of picture files (through
/// <see cref="ImageEncoder"/>, the library's consumer API).
/// </summary>
public static class EmbedJob
{
    /// <param name="output">The features' .npy; labels go to <c>NAME_labels.npy</c>, picture paths to <c>NAME_files.txt</c>.</param>
    /// <param name="input">An N x 3 x H x W float32 .npy to encode instead of a data split.</param>
    /// <param name="pictures">Files and folders of pictures to encode instead of a data split.</param>
    /// <param name="notes">Hears what the encoder's checkpoint held that it ignored, and any rerouted convolution; null: the observer.</param>
    /// <returns>What was written, one line.</returns>
    public static string Run(EncoderSource source, EmbedOptions options, string output, string? input, IReadOnlyList<string>? pictures, ITrainingObserver observer,
        Action<string>? notes = null)
    {
        notes ??= observer.OnMessage;
        options.Validate();
        if (!output.EndsWith(".npy", StringComparison.Ordinal)) throw new ArgumentException($"--output {output}: expected a file name ending in .npy");
        if (File.Exists(output)) throw new ArgumentException($"--output {output} already exists");
        var stem = output[..^4];
        if (pictures is { Count: > 0 })
        {
            using var encoder = ImageEncoder.Load(source.CheckpointPath, source.Dataset, source.Device.ToString(), source.Precision.Name());
            var embedded = Embed(encoder, pictures, options.BatchSize, observer.OnMessage);
            Npy.Write(output, embedded.Features.SelectMany(f => f).ToArray(), [embedded.Features.Count, encoder.FeatureDim]);
            var listPath = stem + "_files.txt";
            AtomicFile.Write(listPath, s => s.Write(System.Text.Encoding.UTF8.GetBytes(string.Concat(embedded.Files.Select(f => f + "\n")))));
            var csvPath = stem + ".csv";
            EmbeddingsCsv.Write(csvPath, embedded.Features, EmbeddingsCsv.Names(embedded.Files, pictures), EmbeddingsCsv.FolderLabels(embedded.Files, pictures));
            return $"wrote {output} ({embedded.Features.Count} x {encoder.FeatureDim} float32, {encoder.Dataset.Name} transform), {listPath} and {csvPath}"
                + (embedded.Skipped > 0 ? $"; {embedded.Skipped} unreadable picture{(embedded.Skipped == 1 ? "" : "s")} skipped" : "");
        }
        if (input is not null)
        {
            using var weights = PretrainedWeights.Read(source.CheckpointPath);
            using var encoder = source.BuildEncoder(weights, notes);
            var (array, shape) = Npy.ReadFloat32(input);
            using var features = CheckpointEncoder.EncodeArray(encoder, array, shape, weights.Options.InputHeight, options.BatchSize, source.Device.Resolve(), input);
            Npy.Write(output, features.data<float>().ToArray(), features.shape);
            return $"wrote {output}: {features.shape[0]} x {features.shape[1]} float32 features of {input}";
        }
        var (w, data) = source.Load();
        using (w)
        using (data)
        {
            observer.OnMessage(EncoderSource.Describe(w, data));
            var split = CheckpointEncoder.Split(data, options.Split);
            using var encoder = source.BuildEncoder(w, notes);
            using var set = CheckpointEncoder.Embed(encoder, data, split, options.BatchSize, source.Device.Resolve(), options.LimitBatches);
            var labelsPath = stem + "_labels.npy";
            Npy.Write(output, set.Features.contiguous().data<float>().ToArray(), set.Features.shape);
            Npy.Write(labelsPath, set.Labels.contiguous().data<long>().ToArray(), set.Labels.shape);
            return $"wrote {output} ({set.Count} x {set.Features.shape[1]} float32) and {labelsPath} (int64) for {split.Name}";
        }
    }

    /// <summary>The pictures <paramref name="paths"/> name (files, and pictures under folders), embedded; a picture that cannot be read is skipped and said, as pre-training skips it.</summary>
    public static (IReadOnlyList<string> Files, IReadOnlyList<float[]> Features, int Skipped) Embed(ImageEncoder encoder, IReadOnlyList<string> paths, int batchSize, Action<string> say)
    {
        var files = Pictures(paths);
        var features = new List<float[]>(files.Count);
        var embedded = new List<string>(files.Count);
        int skipped = 0;
        foreach (var batch in files.Chunk(batchSize))
        {
            var decoded = new List<(string File, Pixels Pixels)>(batch.Length);
            foreach (var file in batch)
            {
                try
                {
                    decoded.Add((file, Pixels.Read(file)));
                }
                catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
                {
                    skipped++;
                    say($"skipped {PrintableText.Of(e.Message)}");
                }
            }
            if (decoded.Count == 0) continue;
            features.AddRange(encoder.Embed(decoded.Select(d => d.Pixels).ToList(), batchSize));
            embedded.AddRange(decoded.Select(d => d.File));
        }
        if (features.Count == 0) throw new InvalidDataException($"--images: none of the {files.Count} pictures could be read");
        return (embedded, features, skipped);
    }

    /// <summary>The pictures named, a refusal naming the option they came from.</summary>
    private static IReadOnlyList<string> Pictures(IReadOnlyList<string> paths)
    {
        try
        {
            return PictureFile.List(paths);
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException($"--images {e.Message}", e.FileName);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"--images {e.Message}");
        }
    }
}

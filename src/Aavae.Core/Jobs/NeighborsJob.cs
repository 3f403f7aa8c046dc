using System.Text.Json;
using Aavae.Configuration;
using Aavae.Data;
using Aavae.Embedding;
using Aavae.Inference;
using Aavae.IO;
using Aavae.Progress;
using Aavae.Runtime;
using Aavae.Visualization;
using static TorchSharp.torch;

namespace Aavae.Jobs;

/// <summary>
/// <c>aavae neighbors</c> as one call: the pictures most like each query, or the groups of
/// near-duplicates, among a folder's pictures embedded by a checkpoint's encoder (or features an
/// earlier <c>embed --images</c> wrote, so the folder is not encoded again). Written as JSON, with a
/// PNG grid of each query and its neighbours beside it.
/// </summary>
public static class NeighborsJob
{
    /// <param name="images">Files and folders of pictures to search, embedded with <paramref name="source"/>'s encoder; names are relative to the one folder when one is named.</param>
    /// <param name="features">Instead of <paramref name="images"/>: an <c>embed</c> .npy and the picture list beside it.</param>
    /// <param name="queries">Pictures to find neighbours of (ignored with <see cref="NeighborsOptions.Duplicates"/>); a query among the searched pictures is left out of its own neighbours.</param>
    /// <returns>What was written, one line.</returns>
    public static string Run(EncoderSource source, IReadOnlyList<string>? images, string? features, IReadOnlyList<string> queries, NeighborsOptions options,
        string output, ITrainingObserver observer)
    {
        Settings.Check(options);
        if (!output.EndsWith(".json", StringComparison.Ordinal)) throw new ArgumentException($"--out {output}: expected a file name ending in .json");
        if (File.Exists(output)) throw new ArgumentException($"--out {output} already exists");
        OptionException.Check((images is { Count: > 0 }) != (features is not null), "Images", "or --features: name one, the pictures to search or their features");
        OptionException.Check(options.Duplicates is not null || queries.Count > 0, "Query", "is required: the pictures to find neighbours of (or --duplicates T)");
        using var encoder = source.Checkpoint is null ? null : ImageEncoder.Load(source.CheckpointPath, source.Dataset, source.Device.ToString(), source.Precision.Name());
        OptionException.Check(encoder is not null || features is not null, "Checkpoint", "is required to embed --images");
        string? root = images is [var one] && Directory.Exists(one) ? PictureFolder.Canonical(one) : null;
        PictureIndex index;
        if (features is not null) index = PictureIndex.Load(features);
        else
        {
            var embedded = EmbedJob.Embed(encoder!, images!, 64, observer.OnMessage);
            index = new PictureIndex(EmbeddingsCsv.Names(embedded.Files, images!), embedded.Features.ToArray());
        }
        using (index)
        {
            if (options.Duplicates is double threshold)
            {
                var groups = index.Duplicates(threshold);
                Write(output, groups.Select(g => new { pictures = g.Pictures.Select(p => new { path = p.Path, similarity = p.Similarity }) }));
                return $"wrote {output}: {groups.Count} groups of pictures with a cosine similarity of at least {SettingValues.Format(threshold)} among {index.Paths.Count}, {groups.Sum(g => g.Pictures.Count)} pictures in all";
            }
            // Each searched picture by its absolute path, so a query matches it however it was spelt (./a.jpg, a.jpg, /home/.../a.jpg).
            var rows = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < index.Paths.Count; i++) rows.TryAdd(Path.GetFullPath(Located(root, index.Paths[i])), i);
            var found = queries.Select(q => Search(index, rows, encoder, q, root, options.K)).ToList();
            Write(output, found.Select(f => new { query = f.Query, neighbors = f.Neighbors.Select(n => new { path = n.Path, similarity = n.Similarity }) }));
            var png = output[..^5] + ".png";
            WriteGrid(png, found, root, options.Thumbnail, queries);
            return $"wrote {output} ({found.Count} quer{(found.Count == 1 ? "y" : "ies")}, {options.K} neighbours each among {index.Paths.Count} pictures) and {png}";
        }
    }

    /// <summary>A query's neighbours: its own row when it is among the searched pictures, else its features from the encoder.</summary>
    private static QueryNeighbors Search(PictureIndex index, IReadOnlyDictionary<string, int> rows, ImageEncoder? encoder, string query, string? root, int k)
    {
        var full = Path.GetFullPath(query);
        var name = root is not null && PictureFolder.Inside(root, full) ? PictureFolder.Relative(root, full) : query;
        int row = rows.TryGetValue(full, out int r) ? r : -1;
        if (row >= 0) name = index.Paths[row];
        float[] features;
        if (encoder is not null) features = encoder.Embed(query);
        else if (row >= 0) features = index.Features(row);
        else throw new OptionException("Query", $"{query} is not among the pictures of --features, and without --checkpoint it cannot be embedded");
        return new QueryNeighbors(name, index.Nearest(features, k, self: row >= 0 ? name : null));
    }

    /// <summary>Where a searched picture is: paths in the index are relative to the folder searched, or as embed listed them.</summary>
    private static string Located(string? root, string path) => root is not null && !Path.IsPathRooted(path) ? Path.Combine(root, path) : path;

    private static void Write<T>(string path, T value) =>
        AtomicFile.Write(path, s => JsonSerializer.Serialize(s, value, new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>A row per query: the query, then its neighbours, each the centre square of the picture at <paramref name="size"/> pixels; a picture that cannot be read is a grey square.</summary>
    private static void WriteGrid(string path, IReadOnlyList<QueryNeighbors> found, string? root, int size, IReadOnlyList<string> queries)
    {
        var plain = new Normalization([0f, 0f, 0f], [1f, 1f, 1f]);
        var info = DatasetInfo.ForFolder(size, DatasetInfo.StemFor(size), plain) with { EvalResize = 1.0 };
        var views = new Augmentation.Views(info, CPU);
        using var scope = NewDisposeScope();
        Pixels Read(string file)
        {
            try
            {
                return Pixels.Read(file);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                return new Pixels(size, size, 1, Enumerable.Repeat((byte)128, size * size).ToArray());
            }
        }
        var rows = found.Select((f, i) => Inference.ImageEncoder.EvalView(info, views, [Read(queries[i]), .. f.Neighbors.Select(n => Read(Located(root, n.Path)))])).ToList();
        ImageGrid.WritePng(path, rows, plain);
    }
}

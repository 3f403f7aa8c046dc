using System.Globalization;
using System.Text;
using Aavae.Data;
using Aavae.Embedding;

namespace Aavae.Jobs;

/// <summary>
/// Features as lightly's <c>embeddings.csv</c> lays them out, for the tools that read it: a header
/// <c>filenames,embedding_0,...,embedding_{d-1},labels</c>, then a row per picture (its name relative
/// to the folder, its features, its class or 0 when it has none).
/// </summary>
public static class EmbeddingsCsv
{
    public static void Write(string path, IReadOnlyList<float[]> features, IReadOnlyList<string> names, IReadOnlyList<int> labels)
    {
        if (features.Count != names.Count || names.Count != labels.Count) throw new ArgumentException($"{features.Count} feature rows, {names.Count} names and {labels.Count} labels");
        int d = features.Count == 0 ? 0 : features[0].Length;
        var text = new StringBuilder("filenames");
        for (int j = 0; j < d; j++) text.Append(",embedding_").Append(j);
        text.Append(",labels\n");
        for (int i = 0; i < features.Count; i++)
        {
            text.Append(Quote(names[i]));
            // "R": the shortest text that reads back to the same float32.
            foreach (var v in features[i]) text.Append(',').Append(v.ToString("R", CultureInfo.InvariantCulture));
            text.Append(',').Append(labels[i].ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        AtomicFile.Write(path, s => s.Write(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>Each file's name relative to the one folder <paramref name="named"/> holds, as lightly names them; as given when several paths (or files) were named.</summary>
    public static IReadOnlyList<string> Names(IReadOnlyList<string> files, IReadOnlyList<string> named) =>
        Folder(named) is { } folder ? files.Select(f => PictureFolder.Relative(folder, f)).ToList() : files;

    /// <summary>
    /// Each file's class when the one folder <paramref name="named"/> keeps its pictures in first-level
    /// sub-folders (their names sorted and numbered from 0, as torchvision's ImageFolder and lightly
    /// number them); 0 for every file otherwise.
    /// </summary>
    public static IReadOnlyList<int> FolderLabels(IReadOnlyList<string> files, IReadOnlyList<string> named)
    {
        var names = Names(files, named);
        if (Folder(named) is null || names.Any(n => !n.Contains('/'))) return new int[files.Count];
        var classes = names.Select(n => n[..n.IndexOf('/')]).Distinct().Order(StringComparer.Ordinal).ToList();
        return names.Select(n => classes.IndexOf(n[..n.IndexOf('/')])).ToList();
    }

    private static string? Folder(IReadOnlyList<string> named) => named is [var one] && Directory.Exists(one) ? one : null;

    /// <summary>RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.</summary>
    private static string Quote(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) < 0 ? field : "\"" + field.Replace("\"", "\"\"") + "\"";
}

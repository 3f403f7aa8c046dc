using Aavae.Embedding;

namespace Aavae.Data;

/// <summary>A file left out of a picture folder, and why.</summary>
public sealed record SkippedPicture(string Path, string Reason);

/// <summary>
/// The pictures of a folder of a user's own, split as pre-training uses them: what it trains on,
/// what it validates on, and what it never sees (a <c>test/</c> sub-folder). Paths are relative to
/// <see cref="Root"/>, with '/' between folders, in ordinal order.
/// </summary>
public sealed record PictureListing(string Root, IReadOnlyList<string> Train, IReadOnlyList<string> Val, IReadOnlyList<string> Test, IReadOnlyList<SkippedPicture> Skipped)
{
    public int Count => Train.Count + Val.Count + Test.Count;
}

/// <summary>
/// Finds the pictures under a folder: every file, in every sub-folder, whose first bytes are a
/// picture's (JPEG, PNG, GIF, BMP, WebP), whatever its name. Symbolic links are followed, each
/// folder once (a link back up the tree is not a loop). Hidden entries (a leading '.'), run folders
/// (a <c>config.json</c> beside a <c>checkpoints/</c> folder) and folders holding
/// <see cref="CacheMarker"/> are never read as data. A first-level <c>val/</c> sub-folder validates
/// and <c>test/</c> is held out; without <c>val/</c> a seeded share of the rest validates.
/// </summary>
public static class PictureFolder
{
    /// <summary>The file that marks a folder as this project's cache, never data.</summary>
    public const string CacheMarker = FolderWalk.CacheMarker;

    /// <summary>The share of a folder without <c>val/</c> that validates: 5%, at least one picture.</summary>
    public const double ValShare = 0.05;

    /// <param name="files">A list of pictures to train on instead of the whole folder (<c>--files</c>): one path a line, relative to <paramref name="root"/> or absolute; blank lines and lines starting with '#' ignored.</param>
    /// <param name="seed">Draws the validation share.</param>
    public static PictureListing List(string root, string? files = null, int seed = 0)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{root}: no such folder (--data-dir)");
        var full = Canonical(root);
        var skipped = new List<SkippedPicture>();
        var found = files is null ? Walk(full, skipped) : FromList(full, files, skipped);
        var pictures = new List<string>(found.Count);
        foreach (var path in found)
        {
            if (PictureFile.Sniff(Path.Combine(full, path)) != PictureFile.Format.None) pictures.Add(path);
            else if (files is not null || PictureFile.IsPicture(path)) skipped.Add(new SkippedPicture(path, "not a JPEG, PNG, GIF, BMP or WebP file (by its first bytes)"));
        }
        pictures.Sort(StringComparer.Ordinal);
        static bool Under(string path, string folder) => path.StartsWith(folder + "/", StringComparison.OrdinalIgnoreCase);
        var test = pictures.Where(p => Under(p, "test")).ToList();
        var val = pictures.Where(p => Under(p, "val")).ToList();
        var train = pictures.Where(p => !Under(p, "test") && !Under(p, "val")).ToList();
        if (val.Count == 0 && train.Count > 1)
        {
            // A seeded share, the same for every run on the same folder and seed.
            var order = Enumerable.Range(0, train.Count).ToArray();
            new Random(seed).Shuffle(order);
            var held = order.Take(Math.Max(1, (int)(train.Count * ValShare))).ToHashSet();
            val = train.Where((_, i) => held.Contains(i)).ToList();
            train = train.Where((_, i) => !held.Contains(i)).ToList();
        }
        return new PictureListing(full, train, val, test, skipped);
    }

    private static List<string> Walk(string root, List<SkippedPicture> skipped) =>
        FolderWalk.Files(root, (path, why) => skipped.Add(new SkippedPicture(Relative(root, path), why))).Select(f => Relative(root, f)).ToList();

    private static List<string> FromList(string root, string list, List<SkippedPicture> skipped)
    {
        if (!File.Exists(list)) throw new FileNotFoundException($"{list}: no such file (--files)", list);
        var files = new List<string>();
        foreach (var raw in File.ReadLines(list))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (Named(root, line, skipped) is { } path) files.Add(path);
        }
        return files.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>A picture a list names (relative to <paramref name="root"/>, or absolute), as a path relative to it; null, and the reason in <paramref name="skipped"/>, when it is outside the folder or missing.</summary>
    public static string? Named(string root, string written, List<SkippedPicture> skipped)
    {
        var path = Path.GetFullPath(Path.Combine(root, written));
        string? problem = !Inside(root, path) ? $"outside {root}" : !File.Exists(path) ? "no such file" : null;
        if (problem is null) return Relative(root, path);
        skipped.Add(new SkippedPicture(written, problem));
        return null;
    }

    /// <summary>A folder's absolute path without a trailing separator: one spelling per folder, for names, containment and cache keys.</summary>
    public static string Canonical(string folder) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));

    /// <summary>Whether <paramref name="path"/> lies under <paramref name="root"/> (both absolute).</summary>
    public static bool Inside(string root, string path) =>
        Path.GetRelativePath(root, path) is var relative && relative != "." && !relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative);

    /// <summary><paramref name="path"/> relative to <paramref name="root"/>, with '/' between folders: how pictures of a folder are named.</summary>
    public static string Relative(string root, string path) => Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');
}

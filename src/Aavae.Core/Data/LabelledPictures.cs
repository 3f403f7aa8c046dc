using Aavae.Embedding;

namespace Aavae.Data;

/// <summary>
/// A folder's pictures with their classes, for linear evaluation and k-NN: from its layout (one
/// sub-folder per class; or <c>train/</c>, <c>val/</c> and <c>test/</c>, each with a sub-folder per
/// class) or from a CSV of path and label. Paths are relative to <see cref="PictureListing.Root"/>.
/// </summary>
public sealed record LabelledPictures(PictureListing Listing, IReadOnlyList<string> Classes, IReadOnlyDictionary<string, int> Labels)
{
    /// <summary>The shares of a folder without <c>train/</c> that validate and test: 10% each, at least one picture.</summary>
    public const double HeldOutShare = 0.1;

    /// <param name="labels">A CSV of <c>path,label</c> (a header line allowed; paths relative to <paramref name="root"/>; labels class names or whole numbers); null: the folder's layout.</param>
    public static LabelledPictures Find(string root, string? labels, int seed)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{root}: no such folder (--data-dir)");
        var full = PictureFolder.Canonical(root);
        var skipped = new List<SkippedPicture>();
        var named = labels is null ? FromLayout(full, skipped) : FromCsv(full, labels, skipped);
        var pictures = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (path, label) in named)
        {
            if (PictureFile.Sniff(Path.Combine(full, path)) == PictureFile.Format.None)
                skipped.Add(new SkippedPicture(path, "not a JPEG, PNG, GIF, BMP or WebP file (by its first bytes)"));
            else pictures[path] = label;
        }
        if (pictures.Count == 0)
            throw new InvalidDataException($"{root}: no labelled pictures ({(labels is null ? "expected a sub-folder of pictures per class, or train/, val/ and test/ holding them" : $"none of the pictures {labels} names could be read")})");
        // Whole numbers as written by a program (no sign, no leading zero, below 100,000) are the classes' own indices.
        static bool Index(string label) => int.TryParse(label, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n)
            && n < 100_000 && n.ToString(System.Globalization.CultureInfo.InvariantCulture) == label;
        var classes = pictures.Values.All(Index)
            ? Enumerable.Range(0, pictures.Values.Max(l => int.Parse(l, System.Globalization.CultureInfo.InvariantCulture)) + 1).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList()
            : pictures.Values.Distinct().Order(StringComparer.Ordinal).ToList();
        var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
        var ids = pictures.ToDictionary(p => p.Key, p => index[p.Value], StringComparer.Ordinal);

        static bool Under(string path, string folder) => path.StartsWith(folder + "/", StringComparison.Ordinal);
        var all = pictures.Keys.Order(StringComparer.Ordinal).ToList();
        List<string> train, val, test;
        if (all.Any(p => Under(p, "train")))
        {
            train = all.Where(p => Under(p, "train")).ToList();
            val = all.Where(p => Under(p, "val")).ToList();
            test = all.Where(p => Under(p, "test")).ToList();
        }
        else
        {
            var order = all.ToArray();
            new Random(seed).Shuffle(order);
            int held = Math.Max(1, (int)(order.Length * HeldOutShare));
            val = order.Take(held).Order(StringComparer.Ordinal).ToList();
            test = order.Skip(held).Take(held).Order(StringComparer.Ordinal).ToList();
            train = order.Skip(2 * held).Order(StringComparer.Ordinal).ToList();
        }
        if (train.Count == 0) throw new InvalidDataException($"{root}: too few labelled pictures ({all.Count}) to hold some out for validation and test");
        return new LabelledPictures(new PictureListing(full, train, val, test, skipped), classes, ids);
    }

    /// <summary>Pictures and their class folder: under <c>train/</c>, <c>val/</c> and <c>test/</c> when there is a <c>train/</c>, else under the folder itself.</summary>
    private static List<(string Path, string Label)> FromLayout(string root, List<SkippedPicture> skipped)
    {
        var splits = Directory.Exists(Path.Combine(root, "train")) ? new[] { "train", "val", "test" } : [""];
        var found = new List<(string, string)>();
        foreach (var split in splits)
        {
            var folder = Path.Combine(root, split);
            if (!Directory.Exists(folder)) continue;
            foreach (var file in FolderWalk.Files(folder, (path, why) => skipped.Add(new SkippedPicture(PictureFolder.Relative(root, path), why))))
            {
                var inSplit = PictureFolder.Relative(folder, file);
                if (!inSplit.Contains('/'))
                {
                    if (PictureFile.IsPicture(file)) skipped.Add(new SkippedPicture(PictureFolder.Relative(root, file), "not inside a class folder"));
                    continue;
                }
                var label = inSplit[..inSplit.IndexOf('/')];
                if (split.Length == 0 && label is "val" or "test") continue;
                found.Add((PictureFolder.Relative(root, file), label));
            }
        }
        return found;
    }

    private static List<(string Path, string Label)> FromCsv(string root, string csv, List<SkippedPicture> skipped)
    {
        if (!File.Exists(csv)) throw new FileNotFoundException($"{csv}: no such file (--labels)", csv);
        var found = new List<(string, string)>();
        int line = 0;
        foreach (var text in File.ReadLines(csv))
        {
            line++;
            if (text.Trim().Length == 0) continue;
            var fields = Fields(text);
            if (fields.Count < 2) throw new InvalidDataException($"{csv}: line {line}: expected a path and a label, got '{(text.Length > 80 ? text[..80] : text)}'");
            var (path, label) = (fields[0].Trim(), fields[^1].Trim());
            if (line == 1 && path.ToLowerInvariant() is "path" or "file" or "filename" or "filenames") continue;
            if (PictureFolder.Named(root, path, skipped) is not { } named) continue;
            if (label.Length == 0) skipped.Add(new SkippedPicture(path, "no label"));
            else found.Add((named, label));
        }
        return found;
    }

    /// <summary>A CSV line's fields (RFC 4180: quoted fields may hold commas, a doubled quote is a quote).</summary>
    private static List<string> Fields(string line)
    {
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(c);
        }
        fields.Add(field.ToString());
        return fields;
    }
}

using System.Globalization;
using System.IO.MemoryMappedFiles;
using System.Security.Cryptography;
using System.Text;
using Aavae.Embedding;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Data;

/// <summary>
/// A picture folder decoded once: every picture upright, RGB, its short side brought down to
/// <see cref="ShortSide"/> (never up), in one uint8 file read through a memory map, with an index of
/// where each lies. It lives outside the folder (which may be read-only), in a folder of its own
/// under the cache root keyed by the picture folder's path and the short side, and is shared by
/// every run on that folder: built under a lock, and brought up to date when a file's size or time
/// changed, a file came or went (only those are decoded again). A picture that cannot be decoded
/// is listed with its reason and left out.
/// </summary>
public sealed class PictureCache : IDisposable
{
    private const string Header = "# aavae picture cache 1";
    public const string PixelsFile = "pixels.bin", IndexFile = "index.tsv", LockFileName = ".lock";

    /// <param name="Offset">Where its bytes start in <see cref="PixelsFile"/>; -1 when it was skipped.</param>
    private sealed record Entry(string Path, long Size, long Modified, long Offset, int Height, int Width, string? Problem);

    private readonly Dictionary<string, Entry> entries;
    private readonly MemoryMappedFile? map;
    private readonly MemoryMappedViewAccessor? view;

    private PictureCache(string folder, int shortSide, Dictionary<string, Entry> entries)
    {
        Folder = folder;
        ShortSide = shortSide;
        this.entries = entries;
        var pixels = Path.Combine(folder, PixelsFile);
        if (new FileInfo(pixels).Length > 0)
        {
            map = MemoryMappedFile.CreateFromFile(pixels, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        }
    }

    public string Folder { get; }
    public int ShortSide { get; }

    /// <summary>The cache's size on disk.</summary>
    public long Bytes => new FileInfo(Path.Combine(Folder, PixelsFile)).Length;

    /// <summary>The default cache root: $XDG_CACHE_HOME/aavae/pictures, else ~/.cache/aavae/pictures.</summary>
    public static string DefaultRoot =>
        Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "aavae", "pictures");

    /// <summary>The cache folder of a picture folder at a short side: one per pair, under <paramref name="root"/>.</summary>
    public static string FolderFor(string root, string pictures, int shortSide)
    {
        var folder = PictureFolder.Canonical(pictures);
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{folder}\n{shortSide}")))[..16].ToLowerInvariant();
        return Path.Combine(root, $"{Path.GetFileName(folder)}-{(shortSide == int.MaxValue ? "full" : shortSide.ToString(CultureInfo.InvariantCulture))}-{key}");
    }

    /// <summary>
    /// The cache of <paramref name="listing"/>'s pictures, built or brought up to date first.
    /// </summary>
    /// <param name="progress">Told (decoded, to decode) as the pass goes; not called when nothing needs decoding.</param>
    /// <param name="stop">Ends the decoding between two pictures, keeping what was decoded (an <see cref="OperationCanceledException"/>).</param>
    public static PictureCache Open(PictureListing listing, int shortSide, string root, IPictureDecoder decoder, Action<int, int>? progress = null,
        CancellationToken stop = default)
    {
        var folder = FolderFor(root, listing.Root, shortSide);
        try
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, PictureFolder.CacheMarker), $"the decoded pictures of {listing.Root}; safe to delete\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{folder}: cannot write the picture cache there ({e.Message}); pass another --cache-dir");
        }
        using var held = Lock(folder);
        var known = ReadIndex(folder);
        var wanted = listing.Train.Concat(listing.Val).Concat(listing.Test).ToList();
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        var todo = new List<(string Path, long Size, long Modified)>();
        foreach (var path in wanted)
        {
            var info = new FileInfo(Path.Combine(listing.Root, path));
            long size = info.Exists ? info.Length : -1, modified = info.Exists ? info.LastWriteTimeUtc.Ticks : 0;
            if (known.TryGetValue(path, out var entry) && entry.Size == size && entry.Modified == modified) entries[path] = entry;
            else todo.Add((path, size, modified));
        }
        // Pictures another listing of the folder asked for (a --files list, a labelled view) stay while their files do.
        bool dropped = false;
        var asked = todo.Select(t => t.Path).ToHashSet(StringComparer.Ordinal);
        foreach (var (path, entry) in known)
        {
            if (entries.ContainsKey(path) || asked.Contains(path)) continue;
            if (File.Exists(Path.Combine(listing.Root, path))) entries[path] = entry;
            else dropped = true;
        }
        if (todo.Count > 0 || dropped) Update(folder, listing.Root, shortSide, entries, todo, decoder, progress, stop);
        return new PictureCache(folder, shortSide, entries);
    }

    /// <summary>Decodes what is new or changed, appends it, and writes the index whole (every 1,000 pictures too, so an interrupted pass keeps its work).</summary>
    private static void Update(string folder, string root, int shortSide, Dictionary<string, Entry> entries,
        List<(string Path, long Size, long Modified)> todo, IPictureDecoder decoder, Action<int, int>? progress, CancellationToken stop)
    {
        var pixels = Path.Combine(folder, PixelsFile);
        // Bytes no entry points at any more (a file changed or went) are dropped by starting afresh once they are most of the file.
        long used = entries.Values.Where(e => e.Offset >= 0).Sum(e => 3L * e.Height * e.Width);
        if (File.Exists(pixels) && new FileInfo(pixels).Length > 2 * used + (64L << 20))
        {
            foreach (var e in entries.Values.ToList()) todo.Add((e.Path, e.Size, e.Modified));
            entries.Clear();
            // The index goes first: offsets into the old file must never be read against the new one.
            File.Delete(Path.Combine(folder, IndexFile));
            File.Delete(pixels);
        }
        using (var output = new FileStream(pixels, FileMode.Append, FileAccess.Write, FileShare.Read))
        {
            for (int i = 0; i < todo.Count; i++)
            {
                if (stop.IsCancellationRequested)
                {
                    output.Flush();
                    WriteIndex(folder, entries.Values);
                    stop.ThrowIfCancellationRequested();
                }
                var (path, size, modified) = todo[i];
                var picture = size < 0 ? new DecodedPicture(0, 0, null, "no such file") : decoder.Decode(Path.Combine(root, path));
                if (picture.Rgb is null) entries[path] = new Entry(path, size, modified, -1, 0, 0, picture.Problem ?? "not decoded");
                else
                {
                    var (width, height, rgb) = Shrink(picture.Width, picture.Height, picture.Rgb, shortSide);
                    entries[path] = new Entry(path, size, modified, output.Position, height, width, null);
                    output.Write(rgb);
                }
                progress?.Invoke(i + 1, todo.Count);
                if ((i + 1) % 1000 == 0)
                {
                    output.Flush();
                    WriteIndex(folder, entries.Values);
                }
            }
        }
        WriteIndex(folder, entries.Values);
    }

    /// <summary>The picture with its short side at most <paramref name="shortSide"/>: bilinear, antialiased, as PIL resizes.</summary>
    private static (int Width, int Height, byte[] Rgb) Shrink(int width, int height, byte[] rgb, int shortSide)
    {
        int shorter = Math.Min(width, height);
        if (shorter <= shortSide) return (width, height, rgb);
        using var scope = NewDisposeScope();
        var resized = FullPictureSource.ResizeShortSide(FullPictureSource.FromRgb(rgb, height, width), shortSide);
        var bytes = FullPictureSource.ToBytes(resized[0].permute(1, 2, 0)).contiguous();
        return ((int)resized.shape[3], (int)resized.shape[2], bytes.data<byte>().ToArray());
    }

    /// <summary>An exclusive lock on the cache folder, waited for: another run on the same folder may be building it.</summary>
    private static FileStream Lock(string folder)
    {
        var path = Path.Combine(folder, LockFileName);
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 36_000)
            {
                Thread.Sleep(100);
            }
        }
    }

    private static Dictionary<string, Entry> ReadIndex(string folder)
    {
        var index = Path.Combine(folder, IndexFile);
        var pixels = Path.Combine(folder, PixelsFile);
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        if (!File.Exists(index) || !File.Exists(pixels)) return entries;
        long length = new FileInfo(pixels).Length;
        var lines = File.ReadAllLines(index);
        // An index this version cannot read, or one that points past the pixels, is rebuilt rather than trusted.
        if (lines.Length == 0 || lines[0] != Header) return entries;
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split('\t');
            if (f.Length != 7 || !long.TryParse(f[1], CultureInfo.InvariantCulture, out long size) || !long.TryParse(f[2], CultureInfo.InvariantCulture, out long modified)
                || !long.TryParse(f[3], CultureInfo.InvariantCulture, out long offset) || !int.TryParse(f[4], CultureInfo.InvariantCulture, out int height)
                || !int.TryParse(f[5], CultureInfo.InvariantCulture, out int width))
                return [];
            if (offset >= 0 && (height < 1 || width < 1 || offset + 3L * height * width > length)) return [];
            entries[f[0]] = new Entry(f[0], size, modified, offset, height, width, f[6].Length == 0 ? null : f[6]);
        }
        return entries;
    }

    private static void WriteIndex(string folder, IEnumerable<Entry> entries)
    {
        var text = new StringBuilder(Header).Append('\n');
        foreach (var e in entries.OrderBy(e => e.Path, StringComparer.Ordinal))
            text.Append(CultureInfo.InvariantCulture, $"{e.Path}\t{e.Size}\t{e.Modified}\t{e.Offset}\t{e.Height}\t{e.Width}\t{e.Problem?.ReplaceLineEndings(" ").Replace('\t', ' ')}\n");
        AtomicFile.Write(Path.Combine(folder, IndexFile), s => s.Write(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>The pictures of <paramref name="paths"/> that decoded, in order.</summary>
    public IReadOnlyList<string> Readable(IEnumerable<string> paths) => paths.Where(p => entries.TryGetValue(p, out var e) && e.Offset >= 0).ToList();

    /// <summary>The pictures of <paramref name="paths"/> that did not decode, with why.</summary>
    public IReadOnlyList<SkippedPicture> Skipped(IEnumerable<string> paths) =>
        paths.Where(p => entries.TryGetValue(p, out var e) && e.Offset < 0).Select(p => new SkippedPicture(p, entries[p].Problem ?? "not decoded")).ToList();

    public (int Height, int Width) SizeOf(string path)
    {
        var e = entries[path];
        return (e.Height, e.Width);
    }

    /// <summary>The stored picture as RGB bytes [H, W, 3].</summary>
    public byte[] Read(string path)
    {
        var e = entries[path];
        if (e.Offset < 0 || view is null) throw new InvalidOperationException($"{path} is not in the cache");
        var bytes = new byte[3L * e.Height * e.Width];
        view.ReadArray(e.Offset, bytes, 0, bytes.Length);
        return bytes;
    }

    public void Dispose()
    {
        view?.Dispose();
        map?.Dispose();
    }
}

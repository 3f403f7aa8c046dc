using StbImageSharp;

namespace Aavae.Embedding;

/// <summary>
/// Decodes a PNG or JPEG file to RGB bytes: the one decoder of the project's picture readers
/// (image folders, <c>embed --images</c>, the library's <c>Pixels.Read</c>).
/// </summary>
public static class PictureFile
{
    /// <summary>The most pixels a picture may have: a 16-megapixel camera frame fits four times over; a header claiming more is refused before the decoder allocates for it.</summary>
    public const long MaxPixels = 64L << 20;

    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg"];

    /// <summary>Whether the file is a picture the project reads (PNG or JPEG, by extension).</summary>
    public static bool IsPicture(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>
    /// The files named, and the PNG / JPEG pictures under the folders named (sub-folders included,
    /// sorted by path), in the order given: what a user means by "these pictures".
    /// </summary>
    public static IReadOnlyList<string> List(IEnumerable<string> paths)
    {
        var named = paths.ToList();
        var files = new List<string>();
        foreach (var path in named)
        {
            if (Directory.Exists(path))
                files.AddRange(Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Where(IsPicture).Order(StringComparer.Ordinal));
            else if (File.Exists(path)) files.Add(path);
            else throw new FileNotFoundException($"{path}: no such file or folder", path);
        }
        if (files.Count == 0) throw new ArgumentException($"{string.Join(" ", named)}: no PNG or JPEG pictures found");
        return files;
    }

    public static (int Width, int Height, byte[] Rgb) DecodeRgb(string path) => Read(path, (bytes, _) =>
    {
        var image = ImageResult.FromMemory(bytes, ColorComponents.RedGreenBlue);
        return (image.Width, image.Height, image.Data);
    });

    /// <summary>The picture's size from its header, checked as <see cref="DecodeRgb"/> checks it.</summary>
    public static (int Width, int Height) ReadSize(string path) => Read(path, (_, info) =>
        info is { } i ? (i.Width, i.Height) : throw new InvalidDataException("no PNG or JPEG header"));

    /// <param name="decode">Given the file's bytes and its header, once checked.</param>
    private static T Read<T>(string path, Func<byte[], ImageInfo?, T> decode)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        var bytes = File.ReadAllBytes(path);
        try
        {
            if (bytes is [0xFF, 0xD8, ..]) CheckJpegStructure(bytes);
            ImageInfo? info;
            using (var header = new MemoryStream(bytes, writable: false)) info = ImageInfo.FromStream(header);
            if (info is { } i && (long)i.Width * i.Height > MaxPixels)
                throw new InvalidDataException($"its header says {i.Width} x {i.Height} pixels, more than the {MaxPixels >> 20} megapixels this project decodes");
            return decode(bytes, info);
        }
        catch (Exception e)
        {
            // Whatever the decoder throws on bytes it cannot follow (it seeks in memory, so even an IOException) is the file's fault.
            throw new InvalidDataException($"{path}: not a readable PNG or JPEG image ({e.Message})", e);
        }
    }

    /// <summary>
    /// Walks a JPEG's segments before StbImageSharp sees it: on a cut or garbled file its marker
    /// scan can loop forever (found by the reader fuzz test), so every segment must lie inside the
    /// file, a frame header must come before the scans, and the image must end with its EOI marker.
    /// </summary>
    private static void CheckJpegStructure(byte[] b)
    {
        int at = 2;
        bool frame = false, scan = false;
        while (true)
        {
            if (at >= b.Length || b[at] != 0xFF) throw new InvalidDataException($"no JPEG marker at byte {at} (cut or garbled)");
            while (at < b.Length && b[at] == 0xFF) at++;
            if (at >= b.Length) throw new InvalidDataException("cut inside a marker");
            byte marker = b[at++];
            if (marker == 0xD9) break;
            if (marker is 0x01 or (>= 0xD0 and <= 0xD7)) continue;
            if (marker == 0x00 || marker == 0xD8) throw new InvalidDataException($"unexpected JPEG marker 0x{marker:X2} at byte {at - 1}");
            if (at + 2 > b.Length) throw new InvalidDataException("cut inside a segment's length");
            int length = (b[at] << 8) | b[at + 1];
            if (length < 2 || at + length > b.Length) throw new InvalidDataException($"a segment at byte {at - 2} runs past the end of the file");
            if (marker is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC))
            {
                if (length < 8) throw new InvalidDataException("frame header too short");
                long height = (b[at + 3] << 8) | b[at + 4], width = (b[at + 5] << 8) | b[at + 6];
                if (width == 0 || height == 0) throw new InvalidDataException($"frame of {width} x {height} pixels");
                if (width * height > MaxPixels) throw new InvalidDataException($"its header says {width} x {height} pixels, more than the {MaxPixels >> 20} megapixels this project decodes");
                frame = true;
            }
            at += length;
            if (marker != 0xDA) continue;
            if (!frame) throw new InvalidDataException("a scan before the frame header");
            scan = true;
            // Entropy-coded data: runs to the next marker that is neither a stuffed 0xFF00 nor a restart.
            while (true)
            {
                if (at + 1 >= b.Length) throw new InvalidDataException("cut inside the image data (no end-of-image marker)");
                if (b[at] == 0xFF && b[at + 1] != 0x00 && b[at + 1] is not (>= 0xD0 and <= 0xD7) && b[at + 1] != 0xFF) break;
                at++;
            }
        }
        if (!scan) throw new InvalidDataException("no image data before the end-of-image marker");
    }
}

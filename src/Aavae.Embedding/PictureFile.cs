using SkiaSharp;

namespace Aavae.Embedding;

/// <summary>
/// Decodes a picture file to RGB bytes: the one decoder of the project's picture readers (picture
/// folders, image folders, <c>embed --images</c>, the library's <c>Pixels.Read</c>). JPEG, PNG, GIF,
/// BMP and WebP, told apart by their first bytes, not their names; any mode (grey, palette, 16-bit,
/// alpha, CMYK, progressive) comes out as 8-bit RGB, alpha dropped as PIL's <c>convert("RGB")</c>
/// drops it, and the EXIF orientation is applied. The decoding is Skia's (SkiaSharp); the file's
/// structure is walked first, so the decoder never follows a length that runs past the file.
/// </summary>
public static class PictureFile
{
    /// <summary>The most pixels a decoded picture may have: a 16-megapixel camera frame fits four times over.</summary>
    public const long MaxPixels = 64L << 20;

    /// <summary>
    /// The most pixels a JPEG header may claim: one over <see cref="MaxPixels"/> (a 108- or
    /// 200-megapixel phone photo) is decoded at the half, quarter or eighth of its size that fits,
    /// which the JPEG decoder does while it decodes. The bound stays near a 200-megapixel frame because
    /// a progressive JPEG's decoder holds every coefficient of the whole picture, whatever the scale.
    /// Other formats are not decoded smaller (a lossless WebP's decoder allocates the full picture)
    /// and stop at <see cref="MaxPixels"/>.
    /// </summary>
    public const long MaxScalablePixels = 256L << 20;

    /// <summary>The formats read, by their signature.</summary>
    public enum Format { None, Jpeg, Png, Gif, Bmp, WebP }

    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"];

    /// <summary>Whether the file's name is a picture's (the formats read, by extension): a quick filter before <see cref="Sniff(string)"/>.</summary>
    public static bool IsPicture(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>The format the file's first bytes say, or <see cref="Format.None"/> when they are no picture's (or the file cannot be read).</summary>
    public static Format Sniff(string path)
    {
        Span<byte> head = stackalloc byte[12];
        try
        {
            using var file = File.OpenRead(path);
            int n = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            return Sniff(head[..n]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Format.None;
        }
    }

    public static Format Sniff(ReadOnlySpan<byte> b) => b switch
    {
        [0xFF, 0xD8, 0xFF, ..] => Format.Jpeg,
        [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Format.Png,
        [(byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'7' or (byte)'9', (byte)'a', ..] => Format.Gif,
        [(byte)'B', (byte)'M', ..] when b.Length >= 12 => Format.Bmp,
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => Format.WebP,
        _ => Format.None,
    };

    /// <summary>
    /// The files named, and the pictures under the folders named (sub-folders included, sorted by
    /// path, by extension; links followed once, as <see cref="FolderWalk"/> walks), in the order given:
    /// what a user means by "these pictures".
    /// </summary>
    public static IReadOnlyList<string> List(IEnumerable<string> paths)
    {
        var named = paths.ToList();
        var files = new List<string>();
        foreach (var path in named)
        {
            if (Directory.Exists(path))
                files.AddRange(FolderWalk.Files(path).Where(IsPicture).Order(StringComparer.Ordinal));
            else if (File.Exists(path)) files.Add(path);
            else throw new FileNotFoundException($"{path}: no such file or folder", path);
        }
        if (files.Count == 0) throw new ArgumentException($"{string.Join(" ", named)}: no pictures found (JPEG, PNG, GIF, BMP or WebP)");
        return files;
    }

    /// <summary>The picture as 8-bit RGB, upright (its EXIF orientation applied).</summary>
    public static (int Width, int Height, byte[] Rgb) DecodeRgb(string path) => DecodeRgb(ReadBytes(path), path);

    /// <summary>The picture in <paramref name="bytes"/> as 8-bit RGB, upright; <paramref name="name"/> names it in a refusal.</summary>
    public static (int Width, int Height, byte[] Rgb) DecodeRgb(byte[] bytes, string name) => WithCodec(bytes, name, codec =>
    {
        var info = codec.Info;
        var size = DecodedSize(codec);
        var want = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[want.BytesSize64];
        unsafe
        {
            fixed (byte* p = rgba)
            {
                var result = codec.GetPixels(want, (IntPtr)p);
                // A cut file decodes in part (IncompleteInput): that picture is damaged, not a picture.
                if (result != SKCodecResult.Success) throw new InvalidDataException($"the decoder stopped: {result}");
            }
        }
        var rgb = new byte[(long)size.Width * size.Height * 3];
        for (long i = 0, j = 0; j < rgb.Length; i += 4, j += 3)
        {
            rgb[j] = rgba[i];
            rgb[j + 1] = rgba[i + 1];
            rgb[j + 2] = rgba[i + 2];
        }
        return Orient(size.Width, size.Height, rgb, codec.EncodedOrigin);
    });

    /// <summary>The size the picture decodes at: its own, or the largest of its half, quarter and eighth the decoder can make that fits <see cref="MaxPixels"/>.</summary>
    private static SKSizeI DecodedSize(SKCodec codec)
    {
        var info = codec.Info;
        if ((long)info.Width * info.Height <= MaxPixels) return new SKSizeI(info.Width, info.Height);
        foreach (var scale in new[] { 0.5f, 0.25f, 0.125f })
        {
            var scaled = codec.GetScaledDimensions(scale);
            if (scaled.Width < info.Width && (long)scaled.Width * scaled.Height <= MaxPixels) return scaled;
        }
        throw new InvalidDataException($"its header says {info.Width} x {info.Height} pixels and its decoder cannot make it smaller; this project decodes up to {MaxPixels >> 20} megapixels");
    }

    /// <summary>The picture's size as it will decode (upright), from its header, checked as <see cref="DecodeRgb(string)"/> checks it.</summary>
    public static (int Width, int Height) ReadSize(string path)
    {
        return WithCodec(ReadBytes(path), path, codec =>
        {
            var size = DecodedSize(codec);
            return Turned(codec.EncodedOrigin) ? (size.Height, size.Width) : (size.Width, size.Height);
        });
    }

    private static byte[] ReadBytes(string path) =>
        File.Exists(path) ? File.ReadAllBytes(path) : throw new FileNotFoundException($"{path}: no such file", path);

    /// <summary><paramref name="read"/> given a codec for the bytes, once their structure holds; any failure is the file's (<see cref="Guarded"/>).</summary>
    private static T WithCodec<T>(byte[] bytes, string name, Func<SKCodec, T> read) => Guarded(name, () =>
    {
        using var data = SKData.CreateCopy(bytes);
        using var codec = Open(bytes, data);
        return read(codec);
    });

    /// <summary>Whether an EXIF orientation swaps width and height (the four that turn the picture by a quarter).</summary>
    private static bool Turned(SKEncodedOrigin origin) =>
        origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;

    /// <summary>Every failure on a file's bytes is the file's: one <see cref="InvalidDataException"/> naming it and why.</summary>
    private static T Guarded<T>(string name, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{name}: not a readable picture ({e.Message})", e);
        }
    }

    /// <summary>A codec for the bytes, once their structure is known to hold.</summary>
    private static SKCodec Open(byte[] bytes, SKData data)
    {
        var format = Sniff(bytes);
        switch (format)
        {
            case Format.None: throw new InvalidDataException("not a JPEG, PNG, GIF, BMP or WebP file");
            case Format.Jpeg: PictureStructure.CheckJpeg(bytes); break;
            case Format.Png: PictureStructure.CheckPng(bytes); break;
            case Format.WebP: PictureStructure.CheckRiff(bytes); break;
            case Format.Bmp: PictureStructure.CheckBmp(bytes); break;
            case Format.Gif: PictureStructure.CheckGif(bytes); break;
        }
        var codec = SKCodec.Create(data) ?? throw new InvalidDataException($"the decoder does not recognise its {format} data");
        var info = codec.Info;
        long max = format is Format.Jpeg ? MaxScalablePixels : MaxPixels;
        if (info.Width < 1 || info.Height < 1 || (long)info.Width * info.Height > max)
        {
            codec.Dispose();
            throw new InvalidDataException($"its header says {info.Width} x {info.Height} pixels; this project decodes 1 to {max >> 20} megapixels");
        }
        return codec;
    }

    /// <summary>The pixels turned upright as EXIF orientation <paramref name="origin"/> says (the TIFF tag's eight cases).</summary>
    public static (int Width, int Height, byte[] Rgb) Orient(int width, int height, byte[] rgb, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft or 0) return (width, height, rgb);
        bool turned = Turned(origin);
        int w = turned ? height : width, h = turned ? width : height;
        var upright = new byte[rgb.Length];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                // Where the upright pixel (x, y) is stored.
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (width - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (width - 1 - x, height - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, height - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, height - 1 - x),
                    SKEncodedOrigin.RightBottom => (width - 1 - y, height - 1 - x),
                    SKEncodedOrigin.LeftBottom => (width - 1 - y, x),
                    _ => (x, y),
                };
                long from = ((long)sy * width + sx) * 3, to = ((long)y * w + x) * 3;
                upright[to] = rgb[from];
                upright[to + 1] = rgb[from + 1];
                upright[to + 2] = rgb[from + 2];
            }
        return (w, h, upright);
    }
}

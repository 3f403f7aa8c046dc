using StbImageWriteSharp;

namespace Aavae.Embedding;

/// <summary>
/// A decoded picture: <see cref="Channels"/> (1 grey, 3 RGB) interleaved bytes per pixel, row by
/// row, top to bottom, as image libraries hand them out.
/// </summary>
public sealed record Pixels(int Width, int Height, int Channels, byte[] Data)
{
    /// <summary>Reads a picture file (JPEG, PNG, GIF, BMP, WebP) as RGB, upright.</summary>
    public static Pixels Read(string path)
    {
        var (width, height, rgb) = Aavae.Embedding.PictureFile.DecodeRgb(path);
        return new Pixels(width, height, 3, rgb);
    }

    /// <summary>Writes the picture as a PNG file, whole or not at all.</summary>
    public void SavePng(string path)
    {
        Check();
        AtomicFile.Write(path, WritePng);
    }

    /// <summary>The picture as PNG bytes, for a page that carries its pictures inside it.</summary>
    public byte[] EncodePng()
    {
        Check();
        using var memory = new MemoryStream();
        WritePng(memory);
        return memory.ToArray();
    }

    private void WritePng(Stream stream) =>
        new ImageWriter().WritePng(Data, Width, Height, Channels == 1 ? ColorComponents.Grey : ColorComponents.RedGreenBlue, stream);

    /// <summary>Throws <see cref="ArgumentException"/> unless size, channels and data agree.</summary>
    public void Check()
    {
        if (Width < 1 || Height < 1) throw new ArgumentException($"a picture needs a positive size, got {Width}x{Height}");
        if (Channels is not (1 or 3)) throw new ArgumentException($"pixels have 1 (grey) or 3 (RGB) channels, got {Channels}");
        if (Data.Length != Width * Height * Channels)
            throw new ArgumentException($"{Width}x{Height}x{Channels} pixels need {Width * Height * Channels} bytes, got {Data.Length}");
    }
}

using System.IO.Compression;
using Aavae.Data;

namespace Aavae.Tests.Data;

public class IdxFileTests
{
    [Fact]
    public void ReadsHeaderShapeAndDataOfGzippedFile()
    {
        var path = Path.Combine(TempDir.Create(), "x-idx3-ubyte.gz");
        var data = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)i).ToArray();
        IdxWriter.Write(path, [2, 3, 4], data);
        var content = IdxFile.Read(path, 3);
        Assert.Equal(new[] { 2, 3, 4 }, content.Shape);
        Assert.Equal(data, content.Data);
    }

    [Fact]
    public void WrongMagicNumberIsNamed()
    {
        var path = Path.Combine(TempDir.Create(), "labels-idx1-ubyte");
        File.WriteAllBytes(path, [0, 0, 0x09, 1, 0, 0, 0, 1, 5]);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path, 1));
        Assert.Contains(path, e.Message);
        Assert.Contains("magic", e.Message);
    }

    [Fact]
    public void TruncatedDataIsNamed()
    {
        var path = Path.Combine(TempDir.Create(), "images-idx3-ubyte");
        File.WriteAllBytes(path, [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3]);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path, 3));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void CorruptedGzipIsNamed()
    {
        var path = Path.Combine(TempDir.Create(), "labels-idx1-ubyte.gz");
        IdxWriter.Write(path, [1000], new byte[1000]);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path, 1));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        var path = Path.Combine(TempDir.Create(), "absent-idx1-ubyte.gz");
        var e = Assert.Throws<FileNotFoundException>(() => IdxFile.Read(path, 1));
        Assert.Contains(path, e.Message);
    }
}

/// <summary>Writes the IDX format of MNIST, independently of the reader under test.</summary>
internal static class IdxWriter
{
    public static void Write(string path, int[] shape, byte[] data)
    {
        using var file = File.Create(path);
        using Stream s = path.EndsWith(".gz") ? new GZipStream(file, CompressionLevel.Fastest) : file;
        s.Write([0, 0, 0x08, (byte)shape.Length]);
        foreach (var d in shape) s.Write([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        s.Write(data);
    }
}

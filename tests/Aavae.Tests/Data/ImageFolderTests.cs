using Aavae.Data;
using StbImageWriteSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Tests.Data;

public class ImageFolderTests
{
    static void WritePng(string path, int w, int h, byte r, byte g, byte b)
    {
        var data = new byte[w * h * 3];
        for (int i = 0; i < w * h; i++) { data[3 * i] = r; data[3 * i + 1] = g; data[3 * i + 2] = b; }
        using var f = File.Create(path);
        new ImageWriter().WritePng(data, w, h, ColorComponents.RedGreenBlue, f);
    }

    [Fact]
    public void ClassFoldersGiveLabelsAndImagesAreResizedAndCropped()
    {
        var root = TempDir.Create();
        Directory.CreateDirectory(Path.Combine(root, "cat"));
        Directory.CreateDirectory(Path.Combine(root, "ant"));
        WritePng(Path.Combine(root, "cat", "a.png"), 40, 30, 200, 10, 30);
        WritePng(Path.Combine(root, "ant", "b.png"), 20, 50, 0, 255, 0);
        File.WriteAllText(Path.Combine(root, "ant", "notes.txt"), "ignored");

        var source = new ImageFolderSource(root, 16);
        Assert.Equal(new[] { "ant", "cat" }, source.Classes);
        Assert.Equal(2, source.Count);
        var (images, labels) = source.GetBatch([0, 1]);
        Assert.Equal(new long[] { 0, 1 }, labels.data<long>().ToArray());
        Assert.Equal(new long[] { 2, 3, 16, 16 }, images.shape);
        // Uniform colours survive resizing exactly.
        Assert.Equal(new byte[] { 200, 10, 30 }, images[1, .., 8, 8].data<byte>().ToArray());
        Assert.Equal(new byte[] { 0, 255, 0 }, images[0, .., 0, 15].data<byte>().ToArray());
    }

    [Fact]
    public void EmptyFolderAndUnreadableImageAreNamed()
    {
        var root = TempDir.Create();
        var e = Assert.Throws<InvalidDataException>(() => new ImageFolderSource(root, 16));
        Assert.Contains(root, e.Message);
        Directory.CreateDirectory(Path.Combine(root, "x"));
        Assert.Throws<InvalidDataException>(() => new ImageFolderSource(root, 16));
        File.WriteAllText(Path.Combine(root, "x", "broken.png"), "not a png");
        var source = new ImageFolderSource(root, 16);
        var bad = Assert.Throws<InvalidDataException>(() => source.GetBatch([0]));
        Assert.Contains("broken.png", bad.Message);
    }
}

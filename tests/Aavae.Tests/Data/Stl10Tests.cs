using Aavae.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Tests.Data;

public class Stl10Tests
{
    const int S = 96, Bytes = 3 * S * S;

    // Published layout: per image, per channel, the 96x96 plane in column-major order.
    static byte[] ColumnMajor(Func<int, int, int, int, byte> pixel, int count)
    {
        var data = new byte[count * Bytes];
        for (int i = 0; i < count; i++)
            for (int c = 0; c < 3; c++)
                for (int col = 0; col < S; col++)
                    for (int row = 0; row < S; row++)
                        data[i * Bytes + c * S * S + col * S + row] = pixel(i, c, row, col);
        return data;
    }

    static byte Pixel(int i, int c, int row, int col) => (byte)((row * 2 + col + c * 50 + i * 3) % 256);

    static string MakeFolder(byte[] trainLabels)
    {
        var dir = Path.Combine(TempDir.Create(), "stl10_binary");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "train_X.bin"), ColumnMajor(Pixel, trainLabels.Length));
        File.WriteAllBytes(Path.Combine(dir, "train_y.bin"), trainLabels);
        File.WriteAllBytes(Path.Combine(dir, "unlabeled_X.bin"), ColumnMajor(Pixel, 5));
        return Path.GetDirectoryName(dir)!;
    }

    [Fact]
    public void ReadsColumnMajorImagesAndShiftsLabelsToZeroBased()
    {
        using var train = Stl10Source.Open(MakeFolder([1, 10, 4]), "train");
        Assert.Equal(3, train.Count);
        var (images, labels) = train.GetBatch([2, 0]);
        Assert.Equal(new long[] { 3, 0 }, labels.data<long>().ToArray());
        Assert.Equal(new long[] { 2, 3, 96, 96 }, images.shape);
        foreach (var (row, col) in new[] { (0, 0), (5, 70), (95, 1) })
            Assert.Equal(Pixel(2, 1, row, col), images[0, 1, row, col].item<byte>());
    }

    [Fact]
    public void UnlabeledImagesAreMappedWithoutLabels()
    {
        using var unlabeled = Stl10Source.Open(MakeFolder([1]), "unlabeled");
        Assert.Equal(5, unlabeled.Count);
        Assert.Equal(0, unlabeled.NumClasses);
        var (images, labels) = unlabeled.GetBatch([4]);
        Assert.Equal(-1, labels[0].item<long>());
        Assert.Equal(Pixel(4, 2, 30, 60), images[0, 2, 30, 60].item<byte>());
    }

    [Fact]
    public void BadLabelAndBadSizeAreNamed()
    {
        var root = MakeFolder([1, 11]);
        var e = Assert.Throws<InvalidDataException>(() => Stl10Source.Open(root, "train"));
        Assert.Contains("train_y.bin", e.Message);
        Assert.Contains("label 11", e.Message);

        File.WriteAllBytes(Path.Combine(root, "stl10_binary", "unlabeled_X.bin"), new byte[Bytes + 10]);
        var size = Assert.Throws<InvalidDataException>(() => Stl10Source.Open(root, "unlabeled"));
        Assert.Contains("unlabeled_X.bin", size.Message);
        Assert.Throws<FileNotFoundException>(() => Stl10Source.Open(root, "test"));
    }
}

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

    static void WriteBorderedPng(string path)
    {
        // 40 x 100: green bands in columns 0-29 and 70-99, grey between; the evaluation view sees only grey.
        const int w = 100, h = 40;
        var data = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                bool green = x < 30 || x >= 70;
                int i = 3 * (y * w + x);
                (data[i], data[i + 1], data[i + 2]) = green ? ((byte)0, (byte)255, (byte)0) : ((byte)128, (byte)128, (byte)128);
            }
        using var f = File.Create(path);
        new ImageWriter().WritePng(data, w, h, ColorComponents.RedGreenBlue, f);
    }

    [Fact]
    public void TrainingCropsComeFromTheFullPictureAndTheEvaluationViewFromItsCentre()
    {
        // The reference crops the decoded image (torchvision's RandomResizedCrop on the PIL picture);
        // cutting crops from the 224-pixel centre view would never show the green bands.
        var root = TempDir.Create();
        Directory.CreateDirectory(Path.Combine(root, "a"));
        WriteBorderedPng(Path.Combine(root, "a", "wide.png"));
        var source = new ImageFolderSource(root, 32);
        Assert.Equal((40, 100), source.SizeOf(0));

        using var scope = NewDisposeScope();
        var (centre, _) = source.GetBatch([0]);
        Assert.True(centre.eq(128).all().item<bool>(), "the evaluation view holds only the grey centre");

        // A box over the left band, and the whole picture mirrored: exact colours survive.
        var (_, crops, _) = source.GetBatchWithCrops([0, 0], [new CropBox(0, 0, 40, 30), new CropBox(0, 0, 40, 100)], [false, true], 16);
        Assert.Equal(new byte[] { 0, 255, 0 }, crops[0, .., 8, 8].data<byte>().ToArray());
        Assert.Equal(new byte[] { 0, 255, 0 }, crops[1, .., 8, 0].data<byte>().ToArray());
        Assert.Equal(new byte[] { 128, 128, 128 }, crops[1, .., 8, 8].data<byte>().ToArray());
        Assert.Throws<ArgumentException>(() => source.GetBatchWithCrops([0], [new CropBox(0, 80, 40, 30)], [false], 16));

        // Through a split, as pre-training and linear evaluation meet it: some random crops reach the bands.
        var views = new Aavae.Augmentation.Views(DatasetInfo.ImageNet with { InputHeight = 32 }, CPU);
        var subset = new SubsetSource(source, [0, 0, 0, 0, 0, 0, 0, 0], "split");
        var rng = new Random(1);
        var (x, labels) = views.LinearEvalTrain(subset, [0, 1, 2, 3, 4, 5, 6, 7], rng);
        Assert.Equal(new long[] { 8, 3, 32, 32 }, x.shape);
        var unit = x * tensor(DatasetInfo.ImageNet.Normalization.Std).view(1, 3, 1, 1) + tensor(DatasetInfo.ImageNet.Normalization.Mean).view(1, 3, 1, 1);
        var greenish = unit[.., 1].gt(0.8) & unit[.., 0].lt(0.2);
        Assert.True(greenish.any().item<bool>(), "no random crop reached the green bands");
        var (aug, original, _) = views.Pretraining(subset, [0, 1], denoising: true, rng);
        Assert.Equal(new long[] { 2, 3, 32, 32 }, aug.shape);
        Assert.Equal(new long[] { 2, 3, 32, 32 }, original.shape);
    }
}

using Aavae.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Tests.Data;

public class FashionMnistTests
{
    [Fact]
    public void ShippedFilesLoadWithPublishedSizesAndBalancedClasses()
    {
        using var train = FashionMnist.Load(FashionMnist.ShippedDirectory, train: true);
        using var test = FashionMnist.Load(FashionMnist.ShippedDirectory, train: false);
        Assert.Equal(60_000, train.Count);
        Assert.Equal(10_000, test.Count);
        Assert.Equal(new long[] { 60_000, 1, 32, 32 }, train.Images.shape);
        // Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class.
        var trainCounts = train.Labels.bincount(null).data<long>().ToArray();
        var testCounts = test.Labels.bincount(null).data<long>().ToArray();
        Assert.All(trainCounts, c => Assert.Equal(6_000, c));
        Assert.All(testCounts, c => Assert.Equal(1_000, c));
    }

    [Fact]
    public void PaddingIsZeroAndStatisticsMatchThePublishedNormalisation()
    {
        using var train = FashionMnist.Load(FashionMnist.ShippedDirectory, train: true);
        using var scope = NewDisposeScope();
        var images = train.Images.to_type(ScalarType.Float32) / 255;
        Assert.Equal(0f, images[.., .., ..2, ..].abs().sum().item<float>());
        Assert.Equal(0f, images[.., .., .., 30..].abs().sum().item<float>());
        var inner = images[.., .., 2..30, 2..30];
        Assert.Equal(DatasetInfo.FashionMnist.Normalization.Mean[0], inner.mean().item<float>(), 3);
        Assert.Equal(DatasetInfo.FashionMnist.Normalization.Std[0], inner.std().item<float>(), 3);
    }

    [Fact]
    public void ValidationSplitIsDisjointAndSeeded()
    {
        using var data = DataModule.Load("fashion-mnist", null);
        var train = ((SubsetSource)data.Train).Indices;
        var val = ((SubsetSource)data.Val).Indices;
        Assert.Equal(55_000, train.Count);
        Assert.Equal(5_000, val.Count);
        Assert.Empty(train.Intersect(val));
        Assert.Equal(60_000, train.Union(val).Distinct().Count());
        using var again = DataModule.Load("fashion-mnist", null);
        Assert.Equal(val, ((SubsetSource)again.Val).Indices);
    }

    [Fact]
    public void ChecksumMismatchNamesTheFile()
    {
        var dir = TempDir.Create();
        IdxWriter.Write(Path.Combine(dir, "train-images-idx3-ubyte.gz"), [2, 28, 28], new byte[2 * 28 * 28]);
        IdxWriter.Write(Path.Combine(dir, "train-labels-idx1-ubyte.gz"), [2], [1, 2]);
        var e = Assert.Throws<InvalidDataException>(() => FashionMnist.Load(dir, train: true));
        Assert.Contains("train-images-idx3-ubyte.gz", e.Message);
        Assert.Contains("checksum", e.Message);
        using var ok = FashionMnist.Load(dir, train: true, verify: false);
        Assert.Equal(2, ok.Count);
    }

    [Fact]
    public void LabelOutOfRangeIsRefused()
    {
        var dir = TempDir.Create();
        IdxWriter.Write(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), [2, 28, 28], new byte[2 * 28 * 28]);
        IdxWriter.Write(Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"), [2], [3, 12]);
        var e = Assert.Throws<InvalidDataException>(() => FashionMnist.Load(dir, train: false, verify: false));
        Assert.Contains("label 12", e.Message);
        Assert.Contains("t10k-labels-idx1-ubyte", e.Message);
    }
}

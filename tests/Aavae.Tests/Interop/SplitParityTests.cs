using Aavae.Checkpoints;
using Aavae.Data;
using static TorchSharp.torch;

namespace Aavae.Tests.Interop;

/// <summary>
/// The seed-42 train/validation splits equal, index for index, what the reference's datamodules get
/// from PyTorch's <c>random_split</c> (Debian's PyTorch 1.13), so validation figures are computed on
/// the same images: CIFAR-10 45,000 / 5,000, STL-10 unlabelled 95,000 / 5,000 and labelled 4,500 /
/// 500, Fashion-MNIST 55,000 / 5,000.
/// </summary>
public class SplitParityTests
{
    [RequiresTheory(Need.PyTorch)]
    [InlineData("cifar10", 50_000, Cifar10.ValCount)]
    [InlineData("stl10 unlabelled", 100_000, Stl10Source.UnlabeledValCount)]
    [InlineData("stl10 labelled", 5_000, Stl10Source.LabeledValCount)]
    [InlineData("fashion-mnist", 60_000, FashionMnist.ValCount)]
    public void SeededSplitEqualsPyTorchsRandomSplit(string name, int count, int valCount)
    {
        var fixture = Path.Combine(TempDir.Create(), "split.pt");
        ReferenceFixtures.RunPython("split", fixture, count.ToString(), valCount.ToString());
        var expected = TorchFile.Read(fixture);

        using var images = zeros(count, 1, 1, 1, dtype: ScalarType.Byte);
        using var labels = zeros(count, dtype: ScalarType.Int64);
        using var source = new TensorImageSource(name, images, labels, 10);
        var (train, val) = Splits.RandomSplit(source, valCount);

        Assert.Equal(((Tensor)expected["train"]!).data<long>().ToArray(), train.Indices.ToArray());
        Assert.Equal(((Tensor)expected["val"]!).data<long>().ToArray(), val.Indices.ToArray());
    }
}

using Aavae.Evaluation;
using static TorchSharp.torch;

namespace Aavae.Tests.Evaluation;

public class KnnTests
{
    // Bank: (1, 0) and (0.8, 0.6) of class 0, (0, 1) of class 1. Query (0, 3) of class 1 has cosine
    // similarities 0, 0.6 and 1 with them.
    private static FeatureSet Bank() => new(tensor(new float[,] { { 1, 0 }, { 0.8f, 0.6f }, { 0, 1 } }), tensor(new long[] { 0, 0, 1 }));

    private static FeatureSet Query() => new(tensor(new float[,] { { 0, 3 } }), tensor(new long[] { 1 }));

    [Fact]
    public void SharpTemperatureLetsTheClosestNeighbourOutvoteTwo()
    {
        // T = 0.1, k = 3: class 0 gets e^0 + e^6 = 404.4, class 1 gets e^10 = 22,026 -> class 1 (right).
        using var bank = Bank();
        using var query = Query();
        Assert.Equal(1.0, Knn.Accuracy(bank, query, numClasses: 2, k: 3, temperature: 0.1));
    }

    [Fact]
    public void SoftTemperatureLetsTheMajorityWin()
    {
        // T = 1, k = 3: class 0 gets e^0 + e^0.6 = 2.822, class 1 gets e^1 = 2.718 -> class 0 (wrong).
        using var bank = Bank();
        using var query = Query();
        Assert.Equal(0.0, Knn.Accuracy(bank, query, numClasses: 2, k: 3, temperature: 1));
    }

    [Fact]
    public void KLargerThanTheBankUsesTheWholeBank()
    {
        using var bank = Bank();
        using var query = Query();
        Assert.Equal(1.0, Knn.Accuracy(bank, query, numClasses: 2, k: 200, temperature: 0.1));
    }
}

using Aavae.Training;
using static TorchSharp.torch;

namespace Aavae.Tests.Training;

public sealed class MetricSumsTests
{
    [Fact]
    public void EachMetricIsTheWeightedMeanOfTheBatchesThatReportedIt()
    {
        using var sums = new MetricSums();
        using var a1 = tensor(1f);
        using var b1 = tensor(2f);
        using var a2 = tensor(4f);
        sums.Add(new Dictionary<string, Tensor> { ["a"] = a1, ["b"] = b1 }, 1);
        sums.Add(new Dictionary<string, Tensor> { ["a"] = a2 }, 3);
        sums.Add("lr", 0.5, 1);
        sums.Add("lr", 0.1, 1);
        // a: (1 x 1 + 4 x 3) / 4 = 3.25; b was reported once: 2; lr: 0.3.
        var means = sums.Means().ToDictionary();
        Assert.Equal(["a", "b", "lr"], means.Keys);
        Assert.Equal(3.25, means["a"], 12);
        Assert.Equal(2, means["b"], 12);
        Assert.Equal(0.3, means["lr"], 12);
    }
}

using System.Globalization;
using Aavae.IO;
using Aavae.Tests.Data;
using Aavae.Visualization;
using static TorchSharp.torch;

namespace Aavae.Tests.Visualization;

/// <summary>t-SNE: clusters stay apart, and on real pictures the map keeps neighbourhoods as well as scikit-learn's own.</summary>
public class TsneTests
{
    [Fact]
    public void SeparateClustersStaySeparateAndTheMapIsTheSameTwice()
    {
        // Three clusters of 40 points in 10 dimensions, centres 20 apart, spread 1.
        using var scope = NewDisposeScope();
        var generator = new Generator(7);
        var centres = randn([3, 10], generator: generator).mul(20.0);
        var labels = arange(120).div(40, rounding_mode: RoundingMode.floor);
        var points = centres.index_select(0, labels).add(randn([120, 10], generator: generator));
        var options = new TsneOptions { Iterations = 400 };
        var map = Tsne.Map(points, options);
        var again = Tsne.Map(points, options);
        Assert.Equal(map.Cast<float>(), again.Cast<float>());

        var label = labels.data<long>().ToArray();
        for (int i = 0; i < 120; i++)
        {
            int nearest = Enumerable.Range(0, 120).Where(j => j != i)
                .MinBy(j => Math.Pow(map[i, 0] - map[j, 0], 2) + Math.Pow(map[i, 1] - map[j, 1], 2));
            Assert.True(label[nearest] == label[i], $"point {i} of cluster {label[i]} lies next to point {nearest} of cluster {label[nearest]}");
        }
    }

    [Fact]
    public void TooFewPointsOrAPerplexityAboveTheirCountIsRefused()
    {
        using var three = zeros(3, 5);
        Assert.Throws<ArgumentException>(() => Tsne.Map(three));
        using var ten = randn(10, 5);
        Assert.Contains("perplexity", Assert.Throws<ArgumentException>(() => Tsne.Map(ten)).Message);
    }

    [RequiresFact(Need.Sklearn)]
    public void OnFashionMnistItKeepsNeighboursAsWellAsScikitLearnsExactTsne()
    {
        // 500 shipped training pictures as 784 pixel values in [0, 1].
        const int n = 500;
        var pixels = PictureFolderTests.FashionMnist(n).SelectMany(p => p.Select(b => b / 255f)).ToArray();
        using var features = tensor(pixels, [n, 784L]);
        var map = Tsne.Map(features);
        var dir = TempDir.Create();
        Npy.Write(Path.Combine(dir, "x.npy"), pixels, [n, 784]);
        Npy.Write(Path.Combine(dir, "ours.npy"), map.Cast<float>().ToArray(), [n, 2]);
        const string script = """
            import sys, numpy as np
            from sklearn.manifold import TSNE, trustworthiness
            x = np.load(sys.argv[1]); ours = np.load(sys.argv[2])
            theirs = TSNE(method='exact', init='pca', learning_rate='auto', perplexity=30, random_state=0).fit_transform(x)
            print(trustworthiness(x, ours, n_neighbors=10), trustworthiness(x, theirs, n_neighbors=10))
            """;
        var printed = ReferenceFixtures.RunPythonCode(script, Path.Combine(dir, "x.npy"), Path.Combine(dir, "ours.npy"))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        double ours = printed[0], theirs = printed[1];
        Assert.True(ours >= theirs - 0.01, $"trustworthiness: ours {ours:F4}, scikit-learn's {theirs:F4}");
        Assert.True(ours > 0.9, $"trustworthiness {ours:F4}");
    }
}

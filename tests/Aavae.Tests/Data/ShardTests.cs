using Aavae.Augmentation;
using Aavae.Data;
using static TorchSharp.torch;

namespace Aavae.Tests.Data;

/// <summary>How a global batch splits among processes, and that the split changes no image's view.</summary>
public class ShardTests
{
    [Fact]
    public void PositionsInterleaveAndTogetherCoverTheBatchOnce()
    {
        Assert.Equal([1, 4, 7], new Shard(1, 3).Positions(8));
        Assert.Equal([2, 5], new Shard(2, 3).Positions(8));
        Assert.Empty(new Shard(3, 4).Positions(3));
        Assert.Equal([0, 1, 2], default(Shard).Positions(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Shard(2, 2));
        for (int n = 1; n <= 4; n++)
        {
            var all = Enumerable.Range(0, n).SelectMany(r => new Shard(r, n).Positions(10)).Order();
            Assert.Equal(Enumerable.Range(0, 10), all);
        }
    }

    /// <summary>
    /// torch's DistributedSampler gives rank r the positions r, r + N, ... of the epoch's
    /// permutation, and each rank's loader cuts them into batches of B / N: rank r's images at step
    /// t are then positions t B + r + N j. Taking the shard of every global batch must give the same.
    /// </summary>
    [Fact]
    public void ShardsOfGlobalBatchesAreDistributedSamplersOrder()
    {
        long[] permutation = Enumerable.Range(0, 40).Select(i => (long)(i * 17 % 40)).ToArray();
        const int global = 8, processes = 4;
        for (int rank = 0; rank < processes; rank++)
        {
            var sampler = permutation.Where((_, i) => i % processes == rank).ToArray();
            var ours = Enumerable.Range(0, permutation.Length / global)
                .SelectMany(t => new Shard(rank, processes).Of(permutation[(t * global)..((t + 1) * global)])).ToArray();
            Assert.Equal(sampler, ours);
        }
    }

    [Fact]
    public void EveryProcessSeesTheViewsOneProcessWouldHaveMadeForItsImages()
    {
        using var train = FashionMnist.Load(FashionMnist.ShippedDirectory, train: true);
        var views = new Views(Aavae.Data.DatasetInfo.Get("fashion-mnist"), CPU);
        long[] batch = [5, 17, 3, 99, 1234, 8, 42, 7];
        var (x, original, labels) = views.Pretraining(train, batch, denoising: true, new Random(11));
        for (int rank = 0; rank < 2; rank++)
        {
            var positions = tensor(new Shard(rank, 2).Positions(batch.Length).Select(p => (long)p).ToArray());
            var (xs, originals, shardLabels) = views.Pretraining(train, batch, denoising: true, new Random(11), new Shard(rank, 2));
            Assert.True(Same(xs, x.index_select(0, positions)), $"rank {rank}: SimCLR views differ");
            Assert.True(Same(originals, original.index_select(0, positions)));
            Assert.True(Same(shardLabels, labels.index_select(0, positions)));
        }
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
}

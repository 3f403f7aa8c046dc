using Aavae.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Tests.Data;

public class BatchLoaderTests
{
    sealed record Indices(long[] Values, double Draw) : IDisposable
    {
        public void Dispose() { }
    }

    static TensorImageSource Source(int n) =>
        new("toy", zeros(n, 1, 2, 2, dtype: ScalarType.Byte), arange(n), 1);

    static List<Indices> Run(IImageSource source, LoaderOptions options) =>
        new BatchLoader<Indices>(source, options, (idx, rng) => new Indices(idx, rng.NextDouble())).ToList();

    [Fact]
    public void TrainingDropsLastPartialBatchAndVisitsEachImageAtMostOnce()
    {
        using var source = Source(103);
        var batches = Run(source, new LoaderOptions(10, Shuffle: true, DropLast: true, Seed: 1));
        Assert.Equal(10, batches.Count);
        Assert.All(batches, b => Assert.Equal(10, b.Values.Length));
        Assert.Equal(100, batches.SelectMany(b => b.Values).Distinct().Count());

        var all = Run(source, new LoaderOptions(10, Shuffle: false, DropLast: false, Seed: 1));
        Assert.Equal(11, all.Count);
        Assert.Equal(Enumerable.Range(0, 103).Select(i => (long)i), all.SelectMany(b => b.Values));
    }

    [Fact]
    public void BuildingBatchesInLineGivesThePrefetchedBatchesAndResumePoint()
    {
        using var source = Source(50);
        var prefetched = Run(source, new LoaderOptions(8, true, true, Seed: 7, Epoch: 2, StartBatch: 2));
        var inline = Run(source, new LoaderOptions(8, true, true, Seed: 7, Epoch: 2, StartBatch: 2, Prefetch: false));
        Assert.Equal(4, inline.Count);
        Assert.Equal(prefetched.Select(x => x.Values), inline.Select(x => x.Values));
        Assert.Equal(prefetched.Select(x => x.Draw), inline.Select(x => x.Draw));

        int made = 0;
        var loader = new BatchLoader<Indices>(source, new LoaderOptions(8, true, true, 0, Prefetch: false), (idx, rng) => { made++; return new Indices(idx, 0); });
        foreach (var _ in loader.Take(2)) { }
        Assert.Equal(2, made); // nothing is built ahead of the caller
    }

    [Fact]
    public void SeedAndEpochFixOrderAndAugmentationDraws()
    {
        using var source = Source(50);
        var a = Run(source, new LoaderOptions(8, true, true, Seed: 7, Epoch: 3));
        var b = Run(source, new LoaderOptions(8, true, true, Seed: 7, Epoch: 3));
        var c = Run(source, new LoaderOptions(8, true, true, Seed: 7, Epoch: 4));
        Assert.Equal(a.Select(x => x.Values), b.Select(x => x.Values));
        Assert.Equal(a.Select(x => x.Draw), b.Select(x => x.Draw));
        Assert.NotEqual(a.Select(x => x.Values), c.Select(x => x.Values));
    }

    [Fact]
    public void LimitCapsBatchesAndEarlyStopDisposesPrefetched()
    {
        using var source = Source(100);
        Assert.Equal(3, Run(source, new LoaderOptions(10, true, true, 0, LimitBatches: 3)).Count);
        int disposed = 0;
        var loader = new BatchLoader<Tracked>(source, new LoaderOptions(10, true, true, 0), (idx, _) => new Tracked(() => disposed++));
        foreach (var batch in loader) { batch.Dispose(); break; }
        Assert.Equal(2, disposed); // the one taken and the one prefetched behind it
    }

    [Fact]
    public void BatchLargerThanDataSetIsRefused()
    {
        using var source = Source(5);
        var e = Assert.Throws<ArgumentException>(() => Run(source, new LoaderOptions(8, true, DropLast: true, 0)));
        Assert.Contains("batch size 8", e.Message);
    }

    sealed class Tracked(Action onDispose) : IDisposable
    {
        public void Dispose() => onDispose();
    }
}

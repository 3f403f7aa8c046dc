namespace Aavae.Data;

/// <summary>How a loader walks its source for one epoch.</summary>
/// <param name="StartBatch">First batch to hand out: a run resumed in the middle of an epoch skips the batches it already trained on.</param>
/// <param name="Prefetch">Build the next batch on a background thread while the caller works on the current one.
/// Off, batches are built on the caller's thread when asked for: the better choice when the caller's work
/// already occupies every core (a CPU training step), where a second thread only preempts it.</param>
public sealed record LoaderOptions(int BatchSize, bool Shuffle, bool DropLast, int Seed, int Epoch = 0, int? LimitBatches = null, int StartBatch = 0, bool Prefetch = true)
{
    /// <summary>The batches an epoch over <paramref name="count"/> items takes: whole ones with DropLast, else one more for the rest; at most LimitBatches.</summary>
    public int BatchesOf(int count)
    {
        int n = DropLast ? count / BatchSize : (count + BatchSize - 1) / BatchSize;
        return LimitBatches is int limit ? Math.Min(n, limit) : n;
    }

    /// <summary>
    /// Whether to prefetch for work on <paramref name="device"/>. On the CPU a step's operations
    /// already use every core; views built on a second thread preempt them mid-operation and cost
    /// more than building them in line. A GPU step leaves the CPU to
    /// the loader's thread, which hides the views behind it.
    /// </summary>
    public static bool PrefetchOn(TorchSharp.torch.Device device) => device.type != TorchSharp.DeviceType.CPU;
}

/// <summary>
/// Hands out the batches of one epoch, shuffled with a seed (the epoch is part of it), dropping
/// the last partial batch when asked, and (with <see cref="LoaderOptions.Prefetch"/>) building the
/// next batch on a background thread while the caller works on the current one. <paramref name="make"/> turns indices into a batch (read,
/// augment, move to device); it receives a generator seeded from (seed, epoch, batch number), so
/// a batch's augmentation does not depend on how many batches were prefetched or skipped.
/// </summary>
/// <param name="count">Items in the source, addressed by position 0..count-1.</param>
/// <param name="name">The source's name, for errors.</param>
public sealed class BatchLoader<T>(int count, string name, LoaderOptions options, Func<long[], Random, T> make) : IEnumerable<T>
    where T : IDisposable
{
    public BatchLoader(IImageSource source, LoaderOptions options, Func<long[], Random, T> make) : this(source.Count, source.Name, options, make) { }

    public int BatchCount => options.BatchesOf(count);

    /// <summary>The order of indices for this epoch.</summary>
    public long[] Order()
    {
        var order = new long[count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        if (options.Shuffle)
        {
            var rng = new Random(DerivedSeed(options.Seed, options.Epoch, -1));
            for (int i = order.Length - 1; i > 0; i--)
            {
                int j = rng.Next(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
        }
        return order;
    }

    public static int DerivedSeed(int seed, int epoch, int batch) =>
        unchecked((int)(((long)seed * 1_000_003 + epoch) * 1_000_033 + batch));

    public IEnumerator<T> GetEnumerator()
    {
        if (options.BatchSize < 1) throw new ArgumentException($"batch size must be >= 1, got {options.BatchSize}");
        if (options.DropLast && options.BatchSize > count)
            throw new ArgumentException($"batch size {options.BatchSize} is larger than {name} ({count} images)");
        var order = Order();
        int batches = BatchCount;
        T Make(int b)
        {
            int start = b * options.BatchSize, end = Math.Min(start + options.BatchSize, order.Length);
            return make(order[start..end], new Random(DerivedSeed(options.Seed, options.Epoch, b)));
        }
        Task<T>? Start(int b) => options.Prefetch && b < batches ? Task.Run(() => Make(b)) : null;

        int first = Math.Max(0, options.StartBatch);
        Task<T>? next = Start(first);
        try
        {
            for (int b = first; b < batches; b++)
            {
                var current = next is null ? Make(b) : next.GetAwaiter().GetResult();
                next = Start(b + 1);
                yield return current;
            }
        }
        finally
        {
            // A caller that stops early (Ctrl-C, limit_train_batches) must not leak the prefetched batch.
            if (next is not null) next.GetAwaiter().GetResult().Dispose();
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

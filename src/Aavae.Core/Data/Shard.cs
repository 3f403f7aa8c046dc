namespace Aavae.Data;

/// <summary>
/// One process's part of every batch in data-parallel training: positions Rank, Rank + Count,
/// Rank + 2 Count, ... of the global batch. Over an epoch's permutation this is exactly
/// DistributedSampler's interleaving, and the parts of global batch t are together the batch t
/// one process would train on, so the schedule does not depend on the number of processes.
/// </summary>
public readonly record struct Shard
{
    public Shard(int rank, int count)
    {
        if (count < 1 || rank < 0 || rank >= count) throw new ArgumentOutOfRangeException(nameof(rank), $"shard {rank} of {count}: expected 0 <= rank < count");
        (Rank, Count) = (rank, count);
    }

    public int Rank { get; }
    public int Count { get; }

    public static readonly Shard Whole = new(0, 1);

    /// <summary>One process has the whole batch (also the default value).</summary>
    public bool IsWhole => Count <= 1;

    /// <summary>How many of a batch of <paramref name="batch"/> items are this process's.</summary>
    public int CountIn(int batch) => IsWhole ? batch : Rank >= batch ? 0 : (batch - Rank + Count - 1) / Count;

    /// <summary>This process's positions in a batch of <paramref name="batch"/> items.</summary>
    public int[] Positions(int batch)
    {
        if (IsWhole) return Enumerable.Range(0, batch).ToArray();
        var positions = new int[CountIn(batch)];
        for (int i = 0; i < positions.Length; i++) positions[i] = Rank + i * Count;
        return positions;
    }

    /// <summary>This process's items of a batch.</summary>
    public T[] Of<T>(T[] batch) => IsWhole ? batch : Array.ConvertAll(Positions(batch.Length), i => batch[i]);
}

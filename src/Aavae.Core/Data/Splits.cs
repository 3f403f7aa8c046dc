using TorchSharp;

namespace Aavae.Data;

/// <summary>
/// Seeded train/validation split in the manner of torch.utils.data.random_split: one random
/// permutation of all indices from a generator seeded with the reference's 42; the first
/// part is train, the rest validation.
/// </summary>
public static class Splits
{
    public const int ReferenceSeed = 42;

    public static (SubsetSource Train, SubsetSource Val) RandomSplit(IImageSource source, int valCount, int seed = ReferenceSeed)
    {
        if (valCount <= 0 || valCount >= source.Count)
            throw new ArgumentException($"{source.Name}: cannot hold out {valCount} of {source.Count} images for validation");
        var perm = Permutation(source.Count, seed);
        int trainCount = source.Count - valCount;
        return (new SubsetSource(source, perm[..trainCount], $"{source.Name} (train split)"),
                new SubsetSource(source, perm[trainCount..], $"{source.Name} (val split)"));
    }

    public static long[] Permutation(int n, long seed)
    {
        using var generator = new torch.Generator((ulong)seed);
        using var perm = torch.randperm(n, generator: generator);
        return perm.data<long>().ToArray();
    }
}

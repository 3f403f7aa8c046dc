using Aavae.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Inference;

/// <summary>A picture found near another, by the cosine similarity of their features.</summary>
public sealed record Neighbor(string Path, double Similarity);

/// <summary>A query picture and its nearest pictures, most similar first.</summary>
public sealed record QueryNeighbors(string Query, IReadOnlyList<Neighbor> Neighbors);

/// <summary>Pictures that are near-duplicates of one another; each with its highest similarity to another member.</summary>
public sealed record DuplicateGroup(IReadOnlyList<Neighbor> Pictures);

/// <summary>
/// Exact cosine search over embedded pictures: the nearest pictures to a query, and the groups of
/// near-duplicates above a similarity. Every comparison is made (a matrix product in chunks), which
/// is fast enough up to a few hundred thousand pictures (bench/NOTES.md measures where it stops).
/// </summary>
public sealed class PictureIndex : IDisposable
{
    private readonly Tensor unit;
    private readonly float[][] features;

    /// <param name="paths">The picture of each row of <paramref name="features"/>.</param>
    public PictureIndex(IReadOnlyList<string> paths, float[][] features)
    {
        if (paths.Count != features.Length) throw new ArgumentException($"{paths.Count} paths for {features.Length} feature vectors");
        if (features.Length == 0) throw new ArgumentException("no pictures to search");
        int d = features[0].Length;
        if (features.Any(f => f.Length != d)) throw new ArgumentException("feature vectors of different lengths");
        Paths = paths;
        this.features = features;
        using var scope = NewDisposeScope();
        var all = tensor(features.SelectMany(f => f).ToArray(), [features.Length, d]);
        unit = nn.functional.normalize(all, dim: 1).DetachFromDisposeScope();
    }

    public IReadOnlyList<string> Paths { get; }

    /// <summary>An index of the features <c>embed</c> wrote: <paramref name="featuresNpy"/> and the list of pictures beside it (<c>NAME_files.txt</c>).</summary>
    public static PictureIndex Load(string featuresNpy)
    {
        var (data, shape) = Npy.ReadFloat32(featuresNpy);
        if (shape.Length != 2) throw new InvalidDataException($"{featuresNpy}: expected features N x d, got {shape.Length} dimensions");
        var list = featuresNpy[..^4] + "_files.txt";
        if (!File.Exists(list)) throw new FileNotFoundException($"{list}: no list of the pictures beside {featuresNpy} (embed --images writes it)", list);
        var paths = File.ReadAllLines(list).Where(l => l.Length > 0).ToList();
        if (paths.Count != shape[0]) throw new InvalidDataException($"{list}: {paths.Count} pictures for the {shape[0]} rows of {featuresNpy}");
        int d = (int)shape[1];
        return new PictureIndex(paths, Enumerable.Range(0, paths.Count).Select(i => data.AsSpan(i * d, d).ToArray()).ToArray());
    }

    /// <summary>The features of row <paramref name="row"/>, as they were given.</summary>
    public float[] Features(int row) => features[row];

    /// <summary>The <paramref name="k"/> pictures most similar to <paramref name="query"/>, most similar first, leaving out the path <paramref name="self"/>.</summary>
    public IReadOnlyList<Neighbor> Nearest(float[] query, int k, string? self = null)
    {
        if (query.Length != unit.shape[1]) throw new ArgumentException($"a query of {query.Length} features against pictures of {unit.shape[1]}");
        using var scope = NewDisposeScope();
        var q = nn.functional.normalize(tensor(query).unsqueeze(0), dim: 1);
        var similarity = unit.matmul(q.t()).squeeze(1);
        int take = (int)Math.Min(unit.shape[0], k + (self is null ? 0 : 1));
        var (values, indices) = similarity.topk(take);
        var v = values.data<float>().ToArray();
        var i = indices.data<long>().ToArray();
        return Enumerable.Range(0, take).Where(j => Paths[(int)i[j]] != self).Take(k).Select(j => new Neighbor(Paths[(int)i[j]], Math.Min(1.0, v[j]))).ToList();
    }

    /// <summary>
    /// Groups of pictures joined by a similarity of at least <paramref name="threshold"/> (pairs joined
    /// transitively, as connected pictures), largest group first; pictures with no such partner are in none.
    /// </summary>
    public IReadOnlyList<DuplicateGroup> Duplicates(double threshold, int chunk = 256)
    {
        int n = (int)unit.shape[0];
        var parent = Enumerable.Range(0, n).ToArray();
        int Find(int x)
        {
            while (parent[x] != x) x = parent[x] = parent[parent[x]];
            return x;
        }
        var best = new double[n];
        var joined = new bool[n];
        using var bound = threshold.ToScalar();
        for (int start = 0; start < n; start += chunk)
        {
            using var scope = NewDisposeScope();
            int rows = Math.Min(chunk, n - start);
            // Each pair once: a row against the rows after it.
            var similarity = unit.narrow(0, start, rows).matmul(unit.narrow(0, start, n - start).t()).triu(1);
            var close = similarity.ge(bound);
            var pairs = close.nonzero();
            if (pairs.shape[0] == 0) continue;
            // masked_select and nonzero both walk the matrix row by row: the values line up with the pairs.
            var values = similarity.masked_select(close).data<float>().ToArray();
            var at = pairs.data<long>().ToArray();
            for (int p = 0; p < values.Length; p++)
            {
                int a = start + (int)at[2 * p], b = start + (int)at[2 * p + 1];
                parent[Find(a)] = Find(b);
                best[a] = joined[a] ? Math.Max(best[a], values[p]) : values[p];
                best[b] = joined[b] ? Math.Max(best[b], values[p]) : values[p];
                joined[a] = joined[b] = true;
            }
        }
        return Enumerable.Range(0, n).Where(i => joined[i]).GroupBy(Find)
            .Where(g => g.Count() > 1)
            .Select(g => new DuplicateGroup(g.Select(i => new Neighbor(Paths[i], Math.Min(1.0, best[i]))).OrderByDescending(x => x.Similarity).ThenBy(x => x.Path, StringComparer.Ordinal).ToList()))
            .OrderByDescending(g => g.Pictures.Count).ThenBy(g => g.Pictures[0].Path, StringComparer.Ordinal).ToList();
    }

    public void Dispose() => unit.Dispose();
}

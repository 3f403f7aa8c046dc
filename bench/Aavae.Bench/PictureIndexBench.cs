using System.Diagnostics;
using Aavae.Inference;

namespace Aavae.Bench;

/// <summary>Where exact cosine search stops being enough: a query and the all-pairs near-duplicate pass, by the number of pictures, with this process's peak memory.</summary>
public static class PictureIndexBench
{
    public static void Run(TextWriter output, IReadOnlyList<int> sizes, int dimension)
    {
        output.WriteLine($"features of {dimension} floats (random, so no pair passes the duplicate threshold: the pass's cost is the comparisons)");
        output.WriteLine("| pictures | build (s) | one query, k 8 (ms) | near-duplicates at 0.95 (s) | peak RSS (MB) |");
        output.WriteLine("| --- | --- | --- | --- | --- |");
        var random = new Random(0);
        foreach (var n in sizes)
        {
            var features = Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, dimension).Select(_ => (float)random.NextDouble() - 0.5f).ToArray()).ToArray();
            var paths = Enumerable.Range(0, n).Select(i => $"{i}.png").ToList();
            var clock = Stopwatch.StartNew();
            using var index = new PictureIndex(paths, features);
            var build = clock.Elapsed;
            clock.Restart();
            for (int q = 0; q < 20; q++) index.Nearest(features[q], 8, paths[q]);
            var query = clock.Elapsed / 20;
            clock.Restart();
            index.Duplicates(0.95);
            var duplicates = clock.Elapsed;
            output.WriteLine($"| {n:N0} | {build.TotalSeconds:F2} | {query.TotalMilliseconds:F1} | {duplicates.TotalSeconds:F1} | {Memory.PeakMb():F0} |");
        }
    }
}

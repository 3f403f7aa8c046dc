using System.Diagnostics;
using Aavae.Data;
using Aavae.Kernels;

namespace Aavae.Bench;

/// <summary>
/// A picture folder's first pass and its later ones: listing it, decoding it into the cache (in
/// the child process a run uses, and in this process), opening the cache again, the cache's size per
/// thousand pictures, and this process's peak resident memory through it all.
/// </summary>
public static class PictureFolderBench
{
    public static void Run(TextWriter output, string folder, int inputSize, string program)
    {
        var clock = Stopwatch.StartNew();
        var listing = PictureFolder.List(folder);
        var listed = clock.Elapsed;
        output.WriteLine($"{listing.Count:N0} pictures in {folder} ({listing.Skipped.Count} skipped), input size {inputSize}, cache short side {new DataOptions().CacheShortSide(inputSize)}");
        output.WriteLine($"| step | seconds | pictures/s | peak RSS (MB) |");
        output.WriteLine($"| --- | --- | --- | --- |");
        void Row(string step, TimeSpan t) =>
            output.WriteLine($"| {step} | {t.TotalSeconds:F1} | {listing.Count / Math.Max(1e-9, t.TotalSeconds):N0} | {Memory.PeakMb():F0} |");
        Row("list (read every file's first bytes)", listed);

        foreach (var (name, make) in new (string, Func<IPictureDecoder>)[]
        {
            ("decode into the cache, child process (as runs do)", () => new ChildPictureDecoder(TrialHost.Program(program))),
            ("decode into the cache, this process", () => new InProcessPictureDecoder()),
        })
        {
            var root = Path.Combine(Path.GetTempPath(), $"aavae-bench-cache-{Environment.ProcessId}");
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
            clock.Restart();
            using (var decoder = make())
            using (var cache = PictureCache.Open(listing, new DataOptions().CacheShortSide(inputSize), root, decoder))
            {
                Row(name, clock.Elapsed);
                if (name.Contains("child")) output.WriteLine($"cache: {cache.Bytes / 1e6:F1} MB, {cache.Bytes / 1e6 / (listing.Count / 1000.0):F2} MB per 1,000 pictures");
            }
            clock.Restart();
            using (PictureCache.Open(listing, new DataOptions().CacheShortSide(inputSize), root, new InProcessPictureDecoder())) Row("open the cache again (nothing to decode)", clock.Elapsed);
            Directory.Delete(root, recursive: true);
        }
    }
}

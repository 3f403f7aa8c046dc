using System.Diagnostics;
using System.Globalization;

namespace Aavae.Bench;

/// <summary>
/// The real trainer's resident memory over a long run (<c>--trainer-memory</c>): <c>aavae pretrain</c>
/// at a small width for 10,000 steps after a warm-up of 200, its resident set read every half second
/// from /proc. The step at each reading is estimated from the time (steps take about the same time;
/// an epoch's end adds a validation and a checkpoint). The level is the highest reading in the
/// warm-up's last 100 steps: the trainer trims malloc's free memory every 50 steps, so the set saws
/// between trims and a single reading would be either a trough or a top.
/// </summary>
public static class TrainerMemoryBench
{
    public static int Run(string aavae, int steps, TextWriter output)
    {
        const int warmup = 200;
        var run = Directory.CreateTempSubdirectory("aavae-memory-").FullName;
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[aavae, "pretrain", "--preset", "cpu-small", "--width", "4", "--latent-dim", "8", "--batch-size", "16", "--precision", "32",
                     "--knn-every", "0", "--limit-val-batches", "2", "--max-steps", $"{warmup + steps}", "--max-epochs", "1000", "--device", "cpu", "--output", Path.Combine(run, "run")])
            info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        var samples = new List<(double Seconds, double Mb)>();
        var clock = Stopwatch.StartNew();
        while (!p.HasExited)
        {
            if (Rss(p.Id) is double mb) samples.Add((clock.Elapsed.TotalSeconds, mb));
            Thread.Sleep(500);
        }
        if (p.ExitCode != 0) throw new InvalidOperationException($"aavae pretrain exited {p.ExitCode}: {stderr.Result}");
        // Training's span: from the first "epoch" progress to the process's end, less the end's analysis (a few seconds at this size).
        double total = samples[^1].Seconds;
        double Step(double seconds) => (warmup + steps) * seconds / total;
        var level = samples.Where(s => Step(s.Seconds) is >= warmup - 100 and < warmup).Select(s => s.Mb).DefaultIfEmpty(double.NaN).Max();
        var after = samples.Where(s => Step(s.Seconds) >= warmup).ToList();
        double highest = after.Max(s => s.Mb);
        double rise = 100 * (highest - level) / level;
        output.WriteLine($"aavae pretrain --preset cpu-small --width 4 --latent-dim 8 --batch-size 16 --precision 32, {warmup} + {steps} steps, {samples.Count} readings over {total:F0} s");
        output.WriteLine();
        output.WriteLine("| steps after warm-up | RSS at warm-up's end MB | highest after MB | rise | RSS at the last reading MB | first half's highest MB | second half's highest MB |");
        output.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
        int half = after.Count / 2;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {steps} | {level:F0} | {highest:F0} | {rise:F1}% | {samples[^1].Mb:F0} | {after.Take(half).Max(s => s.Mb):F0} | {after.Skip(half).Max(s => s.Mb):F0} |"));
        Directory.Delete(run, recursive: true);
        return rise <= 5 ? 0 : 1;
    }

    private static double? Rss(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? null : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
        }
        catch (IOException) { return null; }
    }
}

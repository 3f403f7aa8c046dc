using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Aavae.IO;
using Aavae.Embedding;

namespace Aavae.Bench;

/// <summary>
/// A row of the table: what to run, how long, and what it is compared with: PyTorch's
/// counterpart, or (<paramref name="Baseline"/>) another C# row run alternately with it.
/// </summary>
public sealed record BenchRow(string Row, string Title, int Warmup, int Steps, bool WithPyTorch, string? Baseline = null);

/// <summary>A row's medians over repeated runs of each side.</summary>
/// <param name="BaselineRatio">Median over the alternating pairs of this row's images/s over its baseline's:
/// pairs run back to back, so the machine's slow drifts cancel.</param>
public sealed record RowResult(BenchRow Row, Measurement CSharp, Measurement? PyTorch, Measurement? Baseline = null, double? BaselineRatio = null)
{
    public double? SpeedRatio => PyTorch is null ? null : CSharp.ImagesPerSecond / PyTorch.ImagesPerSecond;
    public double? MemoryRatio => PyTorch is null ? null : CSharp.PeakRssMb / PyTorch.PeakRssMb;
}

/// <summary>
/// Runs each row's C# worker and PyTorch worker (or C# baseline row) alternately (A B A B ...),
/// each in a fresh process, and keeps the median run of each side.
/// </summary>
public sealed class Driver(string python, string pytorchScript, int repeats, int threads, TextWriter log)
{
    public RowResult Measure(BenchRow row)
    {
        var csharp = new List<Measurement>();
        var pytorch = new List<Measurement>();
        var baseline = new List<Measurement>();
        // A ratio between two C# rows on this machine needs more pairs than a table median does.
        int runs = row.Baseline is null || repeats == 1 ? repeats : Math.Max(repeats, 5);
        for (int i = 0; i < runs; i++)
        {
            string[] common = ["--warmup", $"{row.Warmup}", "--steps", $"{row.Steps}", "--threads", $"{threads}"];
            csharp.Add(RunWorker("dotnet", [typeof(Driver).Assembly.Location, "--worker", row.Row, .. common]));
            if (row.WithPyTorch)
                pytorch.Add(RunWorker(python, [pytorchScript, row.Row, .. common]));
            if (row.Baseline is { } b)
                baseline.Add(RunWorker("dotnet", [typeof(Driver).Assembly.Location, "--worker", b, .. common]));
        }
        double? pairRatio = baseline.Count == 0 ? null
            : csharp.Zip(baseline, (c, b) => c.ImagesPerSecond / b.ImagesPerSecond).Order().ElementAt(baseline.Count / 2);
        return new RowResult(row, Median(csharp), row.WithPyTorch ? Median(pytorch) : null, baseline.Count > 0 ? Median(baseline) : null, pairRatio);
    }

    private static Measurement Median(List<Measurement> runs) => runs.OrderBy(m => m.ImagesPerSecond).ElementAt(runs.Count / 2);

    private Measurement RunWorker(string program, string[] args)
    {
        var m = Run(program, args);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {m.Impl,-18} {m.Row,-28} {m.ImagesPerSecond,9:F1} img/s  peak {m.PeakRssMb,7:F0} MB"));
        return m;
    }

    /// <summary>Runs a worker process (C# or PyTorch) and reads the measurement it prints last.</summary>
    /// <param name="environment">Variables set for the worker only.</param>
    public static Measurement Run(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        using var p = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {program}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', info.ArgumentList)} failed: {stderr.Result}");
        var line = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        return JsonSerializer.Deserialize<Measurement>(line) ?? throw new InvalidOperationException($"no measurement from {program}");
    }

    public static void PrintTable(IReadOnlyList<RowResult> results, TextWriter o)
    {
        o.WriteLine($"| {"row",-44} | {"C# img/s",9} | {"PyTorch img/s",13} | {"C#/PyTorch",10} | {"C# peak MB",10} | {"PyTorch peak MB",15} | {"mem ratio",9} | {"C# drift",8} | {"PyTorch drift",13} |");
        o.WriteLine($"|{new string('-', 46)}|{new string('-', 11)}|{new string('-', 15)}|{new string('-', 12)}|{new string('-', 12)}|{new string('-', 17)}|{new string('-', 11)}|{new string('-', 10)}|{new string('-', 15)}|");
        foreach (var r in results)
        {
            string F(double? v, string format) => v is double d ? d.ToString(format, CultureInfo.InvariantCulture) : "n/a";
            bool drift = r.Row.Row.StartsWith("drift", StringComparison.Ordinal);
            o.WriteLine($"| {r.Row.Title,-44} | {F(r.CSharp.ImagesPerSecond, "F1"),9} | {F(r.PyTorch?.ImagesPerSecond, "F1"),13} | {F(r.SpeedRatio, "F2"),10} | {F(r.CSharp.PeakRssMb, "F0"),10} | {F(r.PyTorch?.PeakRssMb, "F0"),15} | {F(r.MemoryRatio, "F2"),9} | {(drift ? F(r.CSharp.DriftPercent, "F1") + "%" : ""),8} | {(drift ? F(r.PyTorch?.DriftPercent, "F1") + "%" : ""),13} |");
            if (r.Baseline is { } b)
                o.WriteLine($"| {"  its baseline: " + r.Row.Baseline,-44} | {F(b.ImagesPerSecond, "F1"),9} | {"n/a",13} | {"n/a",10} | {F(b.PeakRssMb, "F0"),10} | {"n/a",15} | {"n/a",9} | {"",8} | {"",13} |");
        }
        foreach (var r in results.Where(r => r.BaselineRatio is not null))
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"\n{r.Row.Title} / {r.Row.Baseline}: {r.BaselineRatio:F2} (median of {r.Row.Row} over its baseline in back-to-back pairs)"));
    }

    public static void WriteJson(string path, IReadOnlyList<RowResult> results)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(results, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower });
        AtomicFile.Write(path, s => s.Write(json));
    }
}

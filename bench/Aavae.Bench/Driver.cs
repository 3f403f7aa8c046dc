using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Aavae.IO;

namespace Aavae.Bench;

/// <summary>A row of the table: what to run, how long, and whether PyTorch has a counterpart.</summary>
public sealed record BenchRow(string Row, string Title, int Warmup, int Steps, bool WithPyTorch);

/// <summary>A row's medians over repeated runs of each side.</summary>
public sealed record RowResult(BenchRow Row, Measurement CSharp, Measurement? PyTorch)
{
    public double? SpeedRatio => PyTorch is null ? null : CSharp.ImagesPerSecond / PyTorch.ImagesPerSecond;
    public double? MemoryRatio => PyTorch is null ? null : CSharp.PeakRssMb / PyTorch.PeakRssMb;
}

/// <summary>
/// Runs each row's C# worker and PyTorch worker alternately (A B A B ...), each in a fresh
/// process, and keeps the median run of each side.
/// </summary>
public sealed class Driver(string python, string pytorchScript, int repeats, int threads, TextWriter log)
{
    public RowResult Measure(BenchRow row)
    {
        var csharp = new List<Measurement>();
        var pytorch = new List<Measurement>();
        for (int i = 0; i < repeats; i++)
        {
            string[] common = ["--warmup", $"{row.Warmup}", "--steps", $"{row.Steps}", "--threads", $"{threads}"];
            csharp.Add(RunWorker("dotnet", [typeof(Driver).Assembly.Location, "--worker", row.Row, .. common]));
            if (row.WithPyTorch)
                pytorch.Add(RunWorker(python, [pytorchScript, row.Row, .. common]));
        }
        return new RowResult(row, Median(csharp), row.WithPyTorch ? Median(pytorch) : null);
    }

    private static Measurement Median(List<Measurement> runs) => runs.OrderBy(m => m.ImagesPerSecond).ElementAt(runs.Count / 2);

    private Measurement RunWorker(string program, string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {program}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed: {stderr.Result}");
        var line = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        var m = JsonSerializer.Deserialize<Measurement>(line) ?? throw new InvalidOperationException($"no measurement from {program}");
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {m.Impl,-18} {m.Row,-28} {m.ImagesPerSecond,9:F1} img/s  peak {m.PeakRssMb,7:F0} MB"));
        return m;
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
        }
    }

    public static void WriteJson(string path, IReadOnlyList<RowResult> results)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(results, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower });
        AtomicFile.Write(path, s => s.Write(json));
    }
}

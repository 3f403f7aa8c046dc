using System.Text.Json;

namespace Aavae.Runs;

/// <summary>One metric of one run against epoch, as its <c>metrics.csv</c> holds it.</summary>
/// <param name="Run">The run's label: its model kind and folder name.</param>
/// <param name="Epochs">1-based epochs at which the metric was measured.</param>
/// <param name="Minutes">Minutes to the end of each of those epochs (the sum of <c>epoch_seconds</c>: training, validation and the monitors), when the run logged them.</param>
public sealed record Curve(string Run, string Metric, IReadOnlyList<double> Epochs, IReadOnlyList<double> Values, IReadOnlyList<double>? Minutes);

/// <summary>Reads the accuracy curves of finished or running pre-training runs.</summary>
public static class AccuracyCurves
{
    /// <summary>The metrics a run logs that measure the representation, in the order a plot shows them.</summary>
    public static IReadOnlyList<string> Metrics { get; } = ["linear_val_acc", "knn_acc", "online_val_acc"];

    /// <summary>The curves of <paramref name="metrics"/> that <paramref name="runFolder"/> logged at least once.</summary>
    public static IReadOnlyList<Curve> Read(string runFolder, IEnumerable<string> metrics)
    {
        var run = new RunFolder(runFolder);
        if (!File.Exists(run.Metrics)) throw new FileNotFoundException($"{runFolder}: no metrics.csv; expected a run folder written by aavae pretrain", run.Metrics);
        List<IReadOnlyDictionary<string, double>> rows;
        try { rows = MetricsLog.ReadCsv(run.Metrics); }
        catch (FormatException e) { throw new InvalidDataException($"{run.Metrics}: not a metrics table ({e.Message})", e); }
        string label = $"{Kind(run)} ({Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(runFolder)))})";
        double elapsed = 0;
        var minutes = new List<double>();
        bool timed = true;
        foreach (var row in rows)
        {
            timed &= row.TryGetValue("epoch_seconds", out var seconds);
            elapsed += timed ? seconds : 0;
            minutes.Add(elapsed / 60);
        }
        var curves = new List<Curve>();
        foreach (var metric in metrics)
        {
            var at = Enumerable.Range(0, rows.Count).Where(i => rows[i].ContainsKey(metric) && rows[i].ContainsKey("epoch")).ToList();
            if (at.Count == 0) continue;
            curves.Add(new Curve(label, metric, at.Select(i => rows[i]["epoch"] + 1).ToList(), at.Select(i => rows[i][metric]).ToList(),
                timed ? at.Select(i => minutes[i]).ToList() : null));
        }
        return curves;
    }

    /// <summary>aavae, vae or ae, from the run's config.json; "run" when it names none.</summary>
    private static string Kind(RunFolder run)
    {
        if (!File.Exists(run.Config)) return "run";
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(run.Config));
            return json.RootElement.TryGetProperty("model", out var model) && model.TryGetProperty("kind", out var kind) && kind.GetString() is { } name
                ? name.ToUpperInvariant() : "run";
        }
        catch (JsonException e) { throw new InvalidDataException($"{run.Config}: not JSON ({e.Message})", e); }
    }
}

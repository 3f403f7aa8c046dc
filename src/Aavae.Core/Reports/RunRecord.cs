using System.Text.Json.Nodes;
using Aavae.Evaluation;
using Aavae.Options;
using Aavae.Runs;

namespace Aavae.Reports;

/// <summary>A linear evaluation's result file, as a page shows it.</summary>
public sealed record LinearEvalRecord(string File, string Mode, double? TestAccuracy, IReadOnlyList<double> ValAccuracy, double? KnnAccuracy,
    ConfusionMatrix? Confusion, IReadOnlyList<string>? Classes);

/// <summary>A k-NN result file (<c>aavae knn</c> of the run), as a page shows it.</summary>
public sealed record KnnRecord(int K, double Temperature, double TestAccuracy, int TestImages);

/// <summary>
/// What a run folder holds, read for its page: the configuration and the machine that trained, the
/// epoch rows, the reconstruction pictures, the evaluation results and the end-of-run analysis. Every
/// part is optional: a run that has not finished an epoch has a page too.
/// </summary>
public sealed record RunRecord(
    string Path,
    PretrainOptions? Options,
    string? Cpu,
    IReadOnlyList<IReadOnlyDictionary<string, double>> Epochs,
    IReadOnlyList<(int Epoch, string Path)> Reconstructions,
    IReadOnlyList<LinearEvalRecord> LinearEvals,
    KnnRecord? Knn,
    RunAnalysis? Analysis)
{
    public const string KnnFile = "knn.json";

    public string Name => System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(Path)));

    /// <summary>Reads <paramref name="path"/>; a folder without a run in it is refused naming it.</summary>
    public static RunRecord Read(string path)
    {
        var run = new RunFolder(path);
        if (!Directory.Exists(path) || !run.HoldsRun) throw new InvalidDataException($"{path}: not a run folder (no config.json or checkpoints/)");
        var config = File.Exists(run.Config) ? File.ReadAllText(run.Config) : null;
        PretrainOptions? options = config is null ? null : PretrainOptions.FromJson(config, run.Config);
        string? cpu = config is null ? null : (JsonNode.Parse(config)?["machine"]?["cpu"] as JsonValue)?.GetValue<string>();
        var epochs = File.Exists(run.Metrics) ? MetricsLog.ReadCsv(run.Metrics) : [];
        var pictures = Directory.Exists(run.Reconstructions)
            ? Directory.GetFiles(run.Reconstructions, "epoch=*.png")
                .Select(f => (Epoch: int.TryParse(System.IO.Path.GetFileNameWithoutExtension(f)["epoch=".Length..], out int e) ? e : -1, Path: f))
                .Where(p => p.Epoch >= 0).OrderBy(p => p.Epoch).ToList()
            : [];
        var evals = Directory.GetFiles(path, "linear_eval_*.json").Order(StringComparer.Ordinal).Select(ReadLinearEval).OfType<LinearEvalRecord>().ToList();
        return new RunRecord(path, options, string.IsNullOrEmpty(cpu) ? null : cpu, epochs, pictures, evals, ReadKnn(System.IO.Path.Combine(path, KnnFile)), RunAnalysis.Read(path));
    }

    /// <summary>A linear evaluation's file; null for one that is not (a file a user put there).</summary>
    private static LinearEvalRecord? ReadLinearEval(string file)
    {
        try
        {
            var result = JsonNode.Parse(File.ReadAllText(file))?["result"];
            if (result is null) return null;
            var confusion = result["confusion"] is JsonObject c && c["counts"] is JsonArray counts
                ? new ConfusionMatrix((string?)c["split"] ?? "test", counts.Select(r => (IReadOnlyList<long>)r!.AsArray().Select(v => (long)v!).ToList()).ToList())
                : null;
            return new LinearEvalRecord(file, (string?)result["mode"] ?? "?", (double?)result["test_accuracy"],
                result["val_accuracy"]?.AsArray().Select(v => (double)v!).ToList() ?? [], (double?)result["knn_accuracy"], confusion,
                result["classes"]?.AsArray().Select(v => (string)v!).ToList());
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    private static KnnRecord? ReadKnn(string file)
    {
        if (!File.Exists(file)) return null;
        try
        {
            var n = JsonNode.Parse(File.ReadAllText(file));
            if (n?["k"] is not JsonValue k || n["temperature"] is not JsonValue t || n["test_accuracy"] is not JsonValue a || n["test_images"] is not JsonValue i) return null;
            return new KnnRecord((int)k, (double)t, (double)a, (int)i);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>The last finite value of <paramref name="metric"/> over the epochs, or null.</summary>
    public double? Last(string metric) =>
        Epochs.Select(r => r.TryGetValue(metric, out var v) ? v : double.NaN).Where(double.IsFinite).Select(v => (double?)v).LastOrDefault();
}

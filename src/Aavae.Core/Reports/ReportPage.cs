using System.Globalization;
using System.Net;
using System.Text;
using Aavae.Configuration;
using Aavae.Embedding;
using Aavae.Options;

namespace Aavae.Reports;

/// <summary>Whether the run a page shows is still training (the page reloads itself), has ended, or is read afterwards.</summary>
public enum ReportState
{
    /// <summary>Written while the run trains: the page reloads every minute.</summary>
    Training,
    /// <summary>Written when the run ended by itself.</summary>
    Finished,
    /// <summary>Written when the run was stopped (Ctrl-C, SIGTERM); it can be resumed.</summary>
    Interrupted,
    /// <summary>Written from the run folder's files afterwards (<c>aavae report</c>, a later evaluation).</summary>
    Read,
}

/// <summary>
/// One HTML file for one run or several side by side: a summary, curves per epoch, reconstructions,
/// the t-SNE map, nearest neighbours, the confusion matrix, the collapse signal, the configuration and
/// the command that repeats the run. Self-contained: charts as inline SVG, pictures as data URIs, no
/// script and nothing fetched from another host, so it opens offline, by mail or beside a checkpoint.
/// </summary>
public static class ReportPage
{
    public const string FileName = "report.html";

    /// <summary>How often a page of a run still training reloads itself.</summary>
    public const int ReloadSeconds = 60;

    private static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    /// <summary>Writes the page of <paramref name="runs"/> to <paramref name="path"/>, whole or not at all.</summary>
    public static void Write(string path, IReadOnlyList<RunRecord> runs, ReportState state, DateTimeOffset? written = null)
    {
        var html = Render(runs, state, written ?? DateTimeOffset.Now);
        AtomicFile.Write(path, s => s.Write(Encoding.UTF8.GetBytes(html)));
    }

    /// <summary>Writes a run folder's own page, <c>report.html</c> in it, from what the folder holds.</summary>
    public static string WriteFor(string runFolder, ReportState state)
    {
        var path = Path.Combine(runFolder, FileName);
        Write(path, [RunRecord.Read(runFolder)], state);
        return path;
    }

    /// <summary>
    /// <see cref="WriteFor"/> for a caller whose own work is done (a run, an evaluation): a page that
    /// cannot be written, whatever the folder's files hold, is said through <paramref name="say"/> and null comes back.
    /// </summary>
    public static string? TryWriteFor(string runFolder, ReportState state, Action<string>? say)
    {
        try
        {
            return WriteFor(runFolder, state);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            say?.Invoke($"the run's page was not written: {e.Message}");
            return null;
        }
    }

    public static string Render(IReadOnlyList<RunRecord> runs, ReportState state, DateTimeOffset written)
    {
        if (runs.Count == 0) throw new ArgumentException("a report needs at least one run", nameof(runs));
        var title = runs.Count == 1 ? $"AAVAE run {runs[0].Name}" : $"AAVAE runs {string.Join(", ", runs.Select(r => r.Name))}";
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        if (state == ReportState.Training) h.Append(Inv($"<meta http-equiv=\"refresh\" content=\"{ReloadSeconds}\">\n"));
        h.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        h.Append($"<title>{E(title)}</title>\n<style>{Style}</style>\n</head>\n<body>\n");
        h.Append($"<header><h1>{E(title)}</h1>\n<p class=\"state state-{state.ToString().ToLowerInvariant()}\">{E(StateLine(state, written))}</p></header>\n");

        Summary(h, runs);
        Curves(h, runs);
        foreach (var run in runs)
        {
            if (runs.Count > 1) h.Append($"<h2 class=\"run\">{E(run.Name)}</h2>\n");
            Reconstructions(h, run);
            Map(h, run);
            Neighbours(h, run);
            Confusion(h, run);
            Collapse(h, run);
            Configuration(h, run);
        }
        h.Append("</body>\n</html>\n");
        return h.ToString();
    }

    private static string StateLine(ReportState state, DateTimeOffset written)
    {
        var at = written.ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture);
        return state switch
        {
            ReportState.Training => $"Written {at} while the run trains; this page reloads every minute. If it stops changing, the run has ended without writing its last page (killed).",
            ReportState.Finished => $"Written {at}, when the run ended.",
            ReportState.Interrupted => $"Written {at}, when the run was stopped; aavae pretrain --resume continues it.",
            _ => $"Written {at} from the run folder's files.",
        };
    }

    private static void Summary(StringBuilder h, IReadOnlyList<RunRecord> runs)
    {
        h.Append("<section id=\"summary\"><h2>Summary</h2>\n");
        foreach (var run in runs) h.Append($"<p class=\"summary\">{(runs.Count > 1 ? $"<b>{E(run.Name)}</b>: " : "")}{E(SummaryLine(run))}</p>\n");
        h.Append("</section>\n");
    }

    /// <summary>The run in one line: model, data, length, speed, machine, precision, final validation and evaluation scores.</summary>
    public static string SummaryLine(RunRecord run)
    {
        var parts = new List<string>();
        var o = run.Options;
        if (o is not null)
        {
            parts.Add($"{SettingValues.Format(o.Model.Kind)} {o.Model.Encoder}/{o.Model.DecoderName} width {o.Model.WidthLabel}, latent {o.Model.LatentDim}");
            parts.Add($"{o.Data.Dataset.Name} at {o.Model.InputHeight} px");
        }
        if (run.Epochs.Count > 0)
        {
            var last = run.Epochs[^1];
            long steps = last.TryGetValue("step", out var s) ? (long)s : 0;
            double seconds = run.Epochs.Sum(r => r.TryGetValue("epoch_seconds", out var t) && double.IsFinite(t) ? t : 0);
            parts.Add(Inv($"{run.Epochs.Count} epoch{(run.Epochs.Count == 1 ? "" : "s")}, {steps:N0} steps"));
            if (seconds > 0)
            {
                parts.Add($"{Duration(seconds)} over the epochs, validation included");
                if (o is not null) parts.Add(Inv($"{steps * o.Data.BatchSize / seconds:F0} images/s"));
            }
        }
        if (run.Cpu is not null) parts.Add(run.Cpu);
        if (o is not null) parts.Add($"precision {SettingValues.Format(o.Trainer.Precision)}");
        if (run.Last("val_loss") is { } loss) parts.Add(Inv($"validation loss {loss:G5}"));
        if (run.Last("val_bpd") is { } bpd) parts.Add(Inv($"{bpd:F3} bits/dim"));
        foreach (var e in run.LinearEvals)
        {
            if (e.TestAccuracy is { } test) parts.Add(Inv($"linear evaluation ({e.Mode}) {100 * test:F2}% test"));
            else if (e.ValAccuracy.Count > 0) parts.Add(Inv($"linear evaluation ({e.Mode}) {100 * e.ValAccuracy[^1]:F2}% validation"));
            if (e.KnnAccuracy is { } knn) parts.Add(Inv($"k-NN {100 * knn:F2}%"));
        }
        if (run.Knn is { } k) parts.Add(Inv($"k-NN (k {k.K}) {100 * k.TestAccuracy:F2}% test"));
        if (run.Last("knn_acc") is { } monitor && run.Knn is null && run.LinearEvals.All(e => e.KnnAccuracy is null)) parts.Add(Inv($"k-NN {100 * monitor:F2}% validation"));
        return parts.Count == 0 ? "no epoch finished yet" : string.Join("; ", parts);
    }

    private static readonly (string Title, string Y, string[] Metrics, bool Log)[] Panels =
    [
        ("Loss", "loss", ["train_loss", "val_loss"], false),
        ("Bits per dimension", "bits/dim", ["train_bpd", "val_bpd"], false),
        ("KL between views (kl_augmentation)", "nats", ["train_kl_augmentation", "val_kl_augmentation"], false),
        ("Cosine similarity between views (cos_sim)", "cos_sim", ["train_cos_sim", "val_cos_sim"], false),
        ("Learning rate", "lr", ["lr"], false),
        ("Accuracy of the frozen features", "accuracy (%)", ["linear_val_acc", "knn_acc", "online_val_acc"], false),
    ];

    private static void Curves(StringBuilder h, IReadOnlyList<RunRecord> runs)
    {
        var charts = new List<string>();
        foreach (var (title, y, metrics, log) in Panels)
        {
            var series = new List<Series>();
            foreach (var run in runs)
                foreach (var metric in metrics)
                {
                    var points = run.Epochs.Where(r => r.ContainsKey(metric) && r.ContainsKey("epoch")).ToList();
                    if (points.Count == 0) continue;
                    bool percent = metric.EndsWith("acc", StringComparison.Ordinal);
                    series.Add(new Series($"{(runs.Count > 1 ? run.Name + ": " : "")}{metric}", points.Select(r => r["epoch"] + 1).ToList(),
                        points.Select(r => percent ? 100 * r[metric] : r[metric]).ToList(), Dashed: metric.StartsWith("val_", StringComparison.Ordinal) || metric == "knn_acc"));
                }
            if (Charts.Svg(title, y, series, log) is { } svg) charts.Add(svg);
        }
        if (charts.Count == 0) return;
        h.Append("<section id=\"curves\"><h2>Curves per epoch</h2>\n<p class=\"note\">Solid: training means over the epoch; dashed: validation.</p>\n<div class=\"charts\">\n");
        foreach (var svg in charts) h.Append("<figure class=\"chart\">").Append(svg).Append("</figure>\n");
        h.Append("</div></section>\n");
    }

    private static void Reconstructions(StringBuilder h, RunRecord run)
    {
        if (run.Reconstructions.Count == 0) return;
        var shown = run.Reconstructions.Count == 1 ? [run.Reconstructions[0]] : new[] { run.Reconstructions[0], run.Reconstructions[^1] };
        h.Append("<section class=\"reconstructions\"><h2>Reconstructions</h2>\n<p class=\"note\">Rows: the original validation pictures, the views the encoder saw, and the decoder's reconstructions.</p>\n");
        foreach (var (epoch, path) in shown)
        {
            byte[] png;
            try
            {
                png = File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            h.Append(Inv($"<figure><img class=\"pixels\" alt=\"reconstructions after epoch {epoch + 1}\" src=\"data:image/png;base64,{Convert.ToBase64String(png)}\"><figcaption>after epoch {epoch + 1}</figcaption></figure>\n"));
        }
        h.Append("</section>\n");
    }

    private static void Map(StringBuilder h, RunRecord run)
    {
        if (run.Analysis is not { Map.Count: > 0 } a) return;
        const double size = 640, margin = 24, thumb = 56;
        double minX = a.Map.Min(p => p.X), maxX = a.Map.Max(p => p.X), minY = a.Map.Min(p => p.Y), maxY = a.Map.Max(p => p.Y);
        double scale = (size - 2 * margin) / Math.Max(1e-9, Math.Max(maxX - minX, maxY - minY));
        bool labelled = a.Map.Any(p => p.Label >= 0);
        h.Append(Inv($"<section class=\"map\"><h2>Validation features, t-SNE (after epoch {a.Epoch + 1})</h2>\n"));
        h.Append(Inv($"<p class=\"note\">{a.Map.Count:N0} validation pictures placed by exact t-SNE of the encoder's features{(labelled ? ", coloured by class" : "")}; hold the pointer on a point to see its picture.</p>\n"));
        h.Append(Inv($"<svg class=\"tsne\" viewBox=\"0 0 {size} {size}\" width=\"{size}\" height=\"{size}\" role=\"img\" aria-label=\"t-SNE map\">\n"));
        var points = new StringBuilder();
        foreach (var p in a.Map)
        {
            double x = margin + (p.X - minX) * scale, y = margin + (p.Y - minY) * scale;
            string colour = p.Label >= 0 ? Palette[p.Label % Palette.Length] : "#555";
            string name = p.Label >= 0 && p.Label < a.Classes.Count ? a.Classes[p.Label] : "";
            double tx = Math.Min(x + 4, size - thumb), ty = Math.Min(Math.Max(y - thumb - 4, 0), size - thumb);
            points.Append(Inv($"<g class=\"pt\"><circle cx=\"{x:F1}\" cy=\"{y:F1}\" r=\"3\" fill=\"{colour}\"><title>{E(name)}</title></circle>"));
            points.Append(Inv($"<image class=\"thumb\" href=\"{Png(p.Thumbnail)}\" x=\"{tx:F1}\" y=\"{ty:F1}\" width=\"{thumb}\" height=\"{thumb}\"/></g>\n"));
        }
        h.Append(points).Append("</svg>\n");
        if (labelled)
        {
            h.Append("<ul class=\"legend\">");
            for (int c = 0; c < a.Classes.Count; c++) h.Append($"<li><span class=\"swatch\" style=\"background:{Palette[c % Palette.Length]}\"></span>{E(a.Classes[c])}</li>");
            h.Append("</ul>\n");
        }
        h.Append("</section>\n");
    }

    private static void Neighbours(StringBuilder h, RunRecord run)
    {
        if (run.Analysis is not { Neighbours.Count: > 0 } a) return;
        h.Append("<section class=\"neighbours\"><h2>Nearest training pictures</h2>\n<p class=\"note\">Left: a validation picture; right: the training pictures whose features are most like its own (cosine similarity beneath each).</p>\n<table class=\"neighbours\">\n");
        foreach (var row in a.Neighbours)
        {
            h.Append($"<tr><th>{Picture(row.Thumbnail, Class(a, row.Label))}</th>");
            foreach (var n in row.Neighbours)
                h.Append(Inv($"<td class=\"{(row.Label >= 0 && n.Label == row.Label ? "same" : row.Label >= 0 ? "other" : "")}\">{Picture(n.Thumbnail, Class(a, n.Label))}<br><small>{n.Similarity:F3}</small></td>"));
            h.Append("</tr>\n");
        }
        h.Append("</table></section>\n");
    }

    private static string Class(RunAnalysis a, int label) => label >= 0 && label < a.Classes.Count ? a.Classes[label] : "";

    private static string Picture(string dataUri, string title) =>
        $"<img class=\"pixels\" src=\"{Png(dataUri)}\" alt=\"{E(title)}\" title=\"{E(title)}\" width=\"64\" height=\"64\">";

    /// <summary>
    /// A picture of the analysis file as the page may carry it: a PNG data URI of base64 characters
    /// only, else nothing. The file lies in a run folder someone may have been sent: it must not make
    /// the page fetch from elsewhere or carry markup.
    /// </summary>
    private static string Png(string uri)
    {
        const string prefix = "data:image/png;base64,";
        return uri.StartsWith(prefix, StringComparison.Ordinal) && uri.AsSpan(prefix.Length).IndexOfAnyExcept(Base64) < 0 ? uri : "";
    }

    private static readonly System.Buffers.SearchValues<char> Base64 =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");

    private static void Confusion(StringBuilder h, RunRecord run)
    {
        // A result that read the test split before one that scored validation only.
        var e = run.LinearEvals.Where(r => r.Confusion is not null).OrderBy(r => r.TestAccuracy is null).FirstOrDefault();
        if (e?.Confusion is not { } m) return;
        var classes = e.Classes ?? run.Analysis?.Classes ?? Enumerable.Range(0, m.Counts.Count).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
        h.Append(Inv($"<section class=\"confusion\"><h2>Confusion matrix</h2>\n<p class=\"note\">The linear evaluation's ({E(e.Mode)}) predictions on the {E(m.Split)} split: a row per true class, a column per predicted one; {100 * m.Accuracy:F2}% on the diagonal.</p>\n"));
        h.Append("<table class=\"confusion\"><tr><th></th>");
        for (int c = 0; c < m.Counts.Count; c++) h.Append($"<th class=\"col\">{E(c < classes.Count ? classes[c] : "")}</th>");
        h.Append("</tr>\n");
        for (int r = 0; r < m.Counts.Count; r++)
        {
            long total = Math.Max(1, m.Counts[r].Sum());
            h.Append($"<tr><th>{E(r < classes.Count ? classes[r] : "")}</th>");
            for (int c = 0; c < m.Counts[r].Count; c++)
            {
                double share = (double)m.Counts[r][c] / total;
                string hue = r == c ? "46,160,44" : "214,39,40";
                h.Append(Inv($"<td style=\"background:rgba({hue},{share:F2})\">{m.Counts[r][c]}</td>"));
            }
            h.Append("</tr>\n");
        }
        h.Append("</table></section>\n");
    }

    private static void Collapse(StringBuilder h, RunRecord run)
    {
        if (run.Analysis?.Collapse is not { } c) return;
        string verdict = c.Ratio < 0.1 ? "collapsed: the features point about the same way for every picture"
            : c.Ratio < 0.5 ? "partly collapsed: the features use few directions" : "not collapsed";
        h.Append(Inv($"<section class=\"collapse\"><h2>Collapse signal</h2>\n<p>Standard deviation of the L2-normalised validation features, averaged over their {c.Dimensions} dimensions: <b>{c.Std:F4}</b>, against 1/&radic;{c.Dimensions} = {c.Spread:F4} for features spread over the whole sphere ({100 * c.Ratio:F0}%): {verdict}.</p>\n"));
        h.Append(Inv($"<div class=\"bar\"><div style=\"width:{Math.Clamp(100 * c.Ratio, 0, 100):F0}%\"></div></div></section>\n"));
    }

    private static void Configuration(StringBuilder h, RunRecord run)
    {
        if (run.Options is not { } o) return;
        h.Append("<section class=\"configuration\"><h2>Configuration</h2>\n<table class=\"config\"><tr><th>group</th><th>setting</th><th>value</th></tr>\n");
        foreach (var s in Settings.Of(typeof(PretrainOptions)))
        {
            string group = s.Path.Count > 1 ? s.Path[0].Name : "";
            h.Append($"<tr><td>{E(group)}</td><td>{E(s.Flag)}</td><td>{E(SettingValues.Format(s.Get(o)))}</td></tr>\n");
        }
        h.Append("</table>\n<h3>The command that repeats the run</h3>\n");
        h.Append($"<pre class=\"command\"><code>{E(o.Command())}</code></pre></section>\n");
    }

    private static string Duration(double seconds)
    {
        var t = TimeSpan.FromSeconds(seconds);
        return t.TotalHours >= 1 ? Inv($"{(int)t.TotalHours} h {t.Minutes:D2} min") : Inv($"{t.Minutes} min {t.Seconds:D2} s");
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private const string Style = """
        body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1400px; margin: 1.5em auto; padding: 0 1em; color: #222; }
        h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
        h2.run { font-size: 1.35em; border-bottom: 2px solid #888; }
        .state { color: #555; } .state-training { color: #a15c00; }
        .note { color: #555; font-size: 0.92em; }
        .summary { font-size: 1.05em; }
        .charts { display: flex; flex-wrap: wrap; gap: 8px; } .chart { margin: 0; } .chart svg { width: 460px; height: auto; }
        img.pixels { image-rendering: pixelated; }
        .reconstructions figure { display: inline-block; margin: 0 1em 1em 0; } .reconstructions img { width: 810px; max-width: 100%; }
        svg.tsne { border: 1px solid #ddd; background: #fff; max-width: 100%; height: auto; }
        svg.tsne .thumb { display: none; } svg.tsne .pt:hover .thumb { display: inline; } svg.tsne .pt:hover circle { stroke: #000; stroke-width: 2; }
        ul.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1em; }
        .swatch { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.3em; vertical-align: -0.1em; }
        table { border-collapse: collapse; } td, th { padding: 2px 6px; }
        table.neighbours td, table.neighbours th { text-align: center; border: 3px solid transparent; }
        table.neighbours td.same { border-color: #2ca02c; } table.neighbours td.other { border-color: #d62728; }
        table.confusion td { text-align: right; min-width: 3em; border: 1px solid #eee; } table.confusion th.col { font-weight: normal; font-size: 0.85em; }
        table.config td, table.config th { border-bottom: 1px solid #eee; text-align: left; }
        .bar { width: 320px; height: 10px; background: #eee; } .bar div { height: 10px; background: #1f77b4; }
        pre.command { background: #f5f5f5; padding: 0.6em; white-space: pre-wrap; word-break: break-all; }
        """;
}

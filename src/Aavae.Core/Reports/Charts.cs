using ScottPlot;

namespace Aavae.Reports;

/// <summary>One series of a chart: a run's metric by epoch.</summary>
public sealed record Series(string Label, IReadOnlyList<double> Epochs, IReadOnlyList<double> Values, bool Dashed = false);

/// <summary>Line charts as inline SVG (ScottPlot): a page that carries its charts inside it reads offline and without script.</summary>
public static class Charts
{
    /// <summary>
    /// <paramref name="series"/> against epoch as SVG markup, a colour per <see cref="Series.Label"/>'s run (the
    /// text before ": "), dashed where asked; null when no series holds a finite value.
    /// </summary>
    public static string? Svg(string title, string yLabel, IReadOnlyList<Series> series, bool logScale = false, int width = 460, int height = 300)
    {
        var drawn = series.Select(s => s with { Values = s.Values.Select(v => logScale ? Math.Log10(v) : v).ToList() })
            .Select(s => (Series: s, Points: s.Epochs.Zip(s.Values).Where(p => double.IsFinite(p.Second)).ToArray()))
            .Where(s => s.Points.Length > 0).ToList();
        if (drawn.Count == 0) return null;
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var runs = drawn.Select(d => RunOf(d.Series.Label)).Distinct().ToList();
        foreach (var (s, points) in drawn)
        {
            var line = plot.Add.Scatter(points.Select(p => p.First).ToArray(), points.Select(p => p.Second).ToArray());
            line.Color = palette.GetColor(runs.IndexOf(RunOf(s.Label)));
            line.LinePattern = s.Dashed ? LinePattern.Dashed : LinePattern.Solid;
            line.LineWidth = 2;
            line.MarkerSize = points.Length > 30 ? 0 : 5;
            line.LegendText = s.Label;
        }
        plot.Title(title, size: 14);
        plot.XLabel("epoch", size: 12);
        plot.YLabel(logScale ? $"log10 {yLabel}" : yLabel, size: 12);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        if (drawn.Count > 1) plot.ShowLegend(Alignment.UpperRight);
        var svg = plot.GetSvgXml(width, height);
        // The page sizes the chart: keep its aspect, drop the XML declaration an inline <svg> must not carry.
        int start = svg.IndexOf("<svg", StringComparison.Ordinal);
        return start < 0 ? svg : svg[start..];
    }

    private static string RunOf(string label) => label.Split(": ", 2)[0];
}

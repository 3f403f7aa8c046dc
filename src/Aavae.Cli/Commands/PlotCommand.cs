using System.CommandLine;
using System.Globalization;
using Aavae.IO;
using Aavae.Training;
using ScottPlot;
using Aavae.Embedding;
using Aavae.Runs;

namespace Aavae.Cli.Commands;

/// <summary>
/// <c>aavae plot RUN...</c>: one PNG of accuracy against epoch for several runs, e.g. AAVAE, VAE and
/// AE pre-trained at the same budget: each run a colour, each metric a line style (linear probe
/// solid, k-NN dashed, online probe dotted), all on the validation split.
/// </summary>
internal static class PlotCommand
{
    private static readonly LinePattern[] Patterns = [LinePattern.Solid, LinePattern.Dashed, LinePattern.Dotted];

    private static readonly Dictionary<string, string> MetricNames = new()
    {
        ["linear_val_acc"] = "linear probe", ["knn_acc"] = "k-NN", ["online_val_acc"] = "online probe",
    };

    public static Command Create()
    {
        var runs = new Argument<string[]>("runs") { Description = "run folders written by aavae pretrain", Arity = ArgumentArity.OneOrMore };
        var output = CliOptions.Create("--output", "the PNG to write", "accuracy.png");
        var metrics = CliOptions.Create("--metrics", $"comma-separated metrics of metrics.csv to draw ({string.Join(", ", AccuracyCurves.Metrics)})", "linear_val_acc,knn_acc");
        var overwrite = CliOptions.Create("--overwrite", "replace --output if it exists", false);
        var command = new Command("plot", "Plot validation accuracy against epoch for one or more runs into a PNG");
        command.Arguments.Add(runs);
        foreach (var o in new Option[] { output, metrics, overwrite }) command.Options.Add(o);
        command.SetAction(r =>
        {
            var path = r.GetValue(output)!;
            if (!path.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) throw new ArgumentException($"--output {path}: expected a .png file name");
            if (File.Exists(path) && !r.GetValue(overwrite)) throw new ArgumentException($"--output {path} already exists; pass another --output or --overwrite");
            var wanted = r.GetValue(metrics)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (wanted.Length == 0) throw new ArgumentException("--metrics: expected at least one metric name");
            var curves = r.GetValue(runs)!.SelectMany(run => AccuracyCurves.Read(run, wanted)).ToList();
            if (curves.Count == 0)
                throw new ArgumentException($"none of the runs logged {string.Join(" or ", wanted)}; pre-train with --linear-probe-every N or --knn-every N");
            var png = Render(curves, wanted);
            AtomicFile.Write(path, s => s.Write(png));
            foreach (var c in curves)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{c.Run}: {c.Metric} {100 * c.Values[^1]:F2}% at epoch {c.Epochs[^1]:G}{(c.Minutes is { } m ? $" ({m[^1]:F1} minutes of training and scoring)" : "")}, best {100 * c.Values.Max():F2}%"));
            Console.WriteLine($"wrote {path}");
            return 0;
        });
        return command;
    }

    /// <summary>The plot as PNG bytes: written by the caller, atomically.</summary>
    public static byte[] Render(IReadOnlyList<Curve> curves, IReadOnlyList<string> metrics)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var runs = curves.Select(c => c.Run).Distinct().ToList();
        foreach (var c in curves)
        {
            var line = plot.Add.Scatter(c.Epochs.ToArray(), c.Values.Select(v => 100 * v).ToArray());
            line.Color = palette.GetColor(runs.IndexOf(c.Run));
            line.LinePattern = Patterns[Math.Max(0, metrics.ToList().IndexOf(c.Metric)) % Patterns.Length];
            line.LineWidth = 2;
            line.MarkerSize = c.Epochs.Count > 40 ? 0 : 5;
            line.LegendText = $"{c.Run}: {MetricNames.GetValueOrDefault(c.Metric, c.Metric)}";
        }
        plot.Title("Validation accuracy of the frozen encoder");
        plot.XLabel("epoch");
        plot.YLabel("top-1 accuracy (%)");
        // Epochs are whole numbers; the legend sits beside the plot, where it hides no curve.
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(Edge.Right);
        return plot.GetImageBytes(1000, 640, ImageFormat.Png);
    }
}

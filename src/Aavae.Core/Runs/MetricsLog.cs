using System.Globalization;
using System.Text;
using Aavae.IO;
using TorchSharp.Modules;
using static TorchSharp.torch.utils.tensorboard;
using Aavae.Embedding;

namespace Aavae.Runs;

/// <summary>
/// Per-epoch metrics to <c>metrics.csv</c> (one row an epoch, a column a metric, as Lightning's
/// CSVLogger; rewritten atomically so it is never half a file) and every logged scalar to
/// TensorBoard event files.
/// </summary>
public sealed class MetricsLog
{
    private readonly RunFolder run;
    private readonly List<IReadOnlyDictionary<string, double>> rows = [];
    private readonly SummaryWriter tensorBoard;

    public MetricsLog(RunFolder run, bool append)
    {
        this.run = run;
        tensorBoard = SummaryWriter(run.TensorBoard);
        if (append && File.Exists(run.Metrics)) rows.AddRange(ReadCsv(run.Metrics));
    }

    public IReadOnlyList<IReadOnlyDictionary<string, double>> Rows => rows;

    public void Scalars(IReadOnlyDictionary<string, double> values, long step)
    {
        foreach (var (tag, value) in values) tensorBoard.add_scalar(tag, (float)value, (int)step);
    }

    /// <summary>Adds an epoch row; a row for an epoch already present (a resumed epoch) replaces it.</summary>
    public void EpochRow(IReadOnlyDictionary<string, double> row)
    {
        rows.RemoveAll(r => r.TryGetValue("epoch", out var e) && e == row["epoch"]);
        rows.Add(row);
        var columns = new List<string> { "epoch", "step" };
        foreach (var r in rows)
            foreach (var k in r.Keys)
                if (!columns.Contains(k)) columns.Add(k);
        var csv = new StringBuilder().AppendLine(string.Join(",", columns));
        foreach (var r in rows)
            csv.AppendLine(string.Join(",", columns.Select(c => r.TryGetValue(c, out var v) ? v.ToString("R", CultureInfo.InvariantCulture) : "")));
        var bytes = Encoding.UTF8.GetBytes(csv.ToString());
        AtomicFile.Write(run.Metrics, s => s.Write(bytes));
    }

    public static List<IReadOnlyDictionary<string, double>> ReadCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) return [];
        var header = lines[0].Split(',');
        if (header.Distinct().Count() != header.Length || header.Any(h => h.Length == 0 || h.Any(char.IsControl)))
            throw new InvalidDataException($"{path}: damaged header line (expected distinct metric names separated by commas); move the file aside to start a new log");
        var rows = new List<IReadOnlyDictionary<string, double>>();
        for (int n = 1; n < lines.Length; n++)
        {
            if (lines[n].Length == 0) continue;
            var cells = lines[n].Split(',');
            if (cells.Length > header.Length)
                throw new InvalidDataException($"{path}: line {n + 1} has {cells.Length} cells, the header {header.Length}; move the file aside to start a new log");
            var row = new Dictionary<string, double>();
            for (int i = 0; i < cells.Length; i++)
            {
                if (cells[i].Length == 0) continue;
                if (!double.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                    throw new InvalidDataException($"{path}: line {n + 1}, column {header[i]}: '{PrintableText.Of(cells[i])}' is not a number; move the file aside to start a new log");
                row[header[i]] = v;
            }
            rows.Add(row);
        }
        return rows;
    }
}

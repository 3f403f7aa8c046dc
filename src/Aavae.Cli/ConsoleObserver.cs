using Aavae.Progress;
using System.Diagnostics;
using System.Globalization;
using Aavae.Training;
using Spectre.Console;

namespace Aavae.Cli;

/// <summary>
/// Shows a run: a live progress bar (epoch, step, images/s, loss, time left) on a terminal,
/// a plain status line every 30 seconds when output is redirected, and one line an epoch.
/// </summary>
internal sealed class ConsoleObserver(int epochLineEvery = 1) : ITrainingObserver
{
    /// <summary>Where notes on a checkpoint's encoder go (keys it ignored, convolutions rerouted): standard error, as warnings.</summary>
    public static void Note(string note) => Console.Error.WriteLine($"aavae: {note}");

    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(30);
    private readonly Stopwatch sincePlain = Stopwatch.StartNew();
    private ProgressTask? task;

    /// <summary>Runs <paramref name="body"/> under a progress bar when the console can draw one.</summary>
    public T Show<T>(string title, Func<T> body)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive || Console.IsOutputRedirected) return body();
        return AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                task = ctx.AddTask(title, maxValue: 1.0);
                try { return body(); }
                finally { task = null; }
            });
    }

    public void OnStep(StepReport s)
    {
        var line = string.Create(CultureInfo.InvariantCulture,
            $"epoch {s.Epoch + 1}{(s.MaxEpochs > 0 ? $"/{s.MaxEpochs}" : "")} step {s.Batch}/{s.BatchesPerEpoch} | {s.ImagesPerSecond:F0} img/s | loss {s.Loss:G5} | left {(s.MaxEpochs > 0 ? Format(s.Remaining) : "?")}");
        if (task is not null)
        {
            task.Description = Markup.Escape(line);
            task.Value = s.TotalSteps is long steps ? Math.Min(1.0, (double)s.GlobalStep / Math.Max(1, steps))
                : Math.Min(1.0, (s.Epoch * (double)s.BatchesPerEpoch + s.Batch) / Math.Max(1.0, (double)s.MaxEpochs * s.BatchesPerEpoch));
        }
        else if (sincePlain.Elapsed >= PlainInterval)
        {
            Console.WriteLine(line);
            sincePlain.Restart();
        }
    }

    public void OnEpoch(EpochReport e)
    {
        if ((e.Epoch + 1) % epochLineEvery != 0 && e.Epoch != 0) return;
        string[] shown = ["train_loss", "train_acc", "val_loss", "val_elbo", "val_bpd", "val_cos_sim", "val_acc", "online_val_acc", "knn_acc", "linear_val_acc"];
        var parts = shown.Where(e.Metrics.ContainsKey).Select(k => string.Create(CultureInfo.InvariantCulture, $"{k} {e.Metrics[k]:G5}"));
        Write($"epoch {e.Epoch + 1}: {string.Join(" | ", parts)} ({Format(e.Elapsed)} elapsed)");
    }

    public void OnMessage(string message) => Write(message);

    public void OnProgress(string what, int done, int total)
    {
        if (task is null) return;
        task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{what}: {done:N0} of {total:N0}"));
        task.Value = Math.Min(1.0, (double)done / Math.Max(1, total));
    }

    private void Write(string line)
    {
        if (task is not null) AnsiConsole.MarkupLine(Markup.Escape(line));
        else Console.WriteLine(line);
    }

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : $"{t.Minutes:D2}:{t.Seconds:D2}";
}

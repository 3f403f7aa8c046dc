using System.CommandLine;
using Aavae.Download;

namespace Aavae.Cli.Commands;

/// <summary><c>aavae download DATASET --data-dir DIR</c>: fetch, verify and (for STL-10) unpack an official archive.</summary>
internal static class DownloadCommand
{
    public static Command Create()
    {
        var dataset = new Argument<string>("dataset") { Description = "cifar10 or stl10" };
        var dataDir = CliOptions.Create("--data-dir", "folder to download into", "data");
        var command = new Command("download", "Download CIFAR-10 or STL-10 from the official address, resumable, MD5-verified");
        command.Arguments.Add(dataset);
        command.Options.Add(dataDir);
        command.SetAction(async (r, ct) =>
        {
            var file = DatasetSources.Get(r.GetValue(dataset)!);
            var dir = r.GetValue(dataDir)!;
            using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            var bar = new ProgressLine(file.FileName);
            var path = await new Downloader(http).FetchAsync(file, dir, bar, ct);
            bar.Finish();
            if (file.UnpackTo is { } folder)
            {
                Console.WriteLine($"unpacking {path} ...");
                DatasetSources.Unpack(path, dir, folder);
            }
            Console.WriteLine($"{path}: MD5 verified; use --data-dir {dir}");
            return 0;
        });
        return command;
    }

    /// <summary>A one-line progress bar on stderr, redrawn at most every percent.</summary>
    private sealed class ProgressLine(string name) : IProgress<DownloadProgress>
    {
        private int lastPercent = -1;

        public void Report(DownloadProgress p)
        {
            if (p.Total is not long total || total == 0) return;
            int percent = (int)(100 * p.Done / total);
            if (percent == lastPercent) return;
            lastPercent = percent;
            var filled = new string('#', percent / 4).PadRight(25, '.');
            Console.Error.Write($"\r{name} [{filled}] {percent,3}% {p.Done / 1e6:F1}/{total / 1e6:F1} MB");
        }

        public void Finish()
        {
            if (lastPercent >= 0) Console.Error.WriteLine();
        }
    }
}

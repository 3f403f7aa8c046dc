using System.Diagnostics;
using System.Globalization;

namespace Aavae.Bench;

/// <summary>
/// What another job on the machine costs a training step (issue: a busy machine should cost at
/// most its share). Each row runs alone, then beside a one-thread busy loop, then beside a copy
/// of itself, once with the thread count fixed and once giving cores up as training does by
/// default (Runtime/CoreShare.cs). "share" is the images/s over half the row's speed alone: the
/// other job is entitled to half the machine, so 1.00 is a fair split and more is better.
/// </summary>
public static class ContentionBench
{
    private static readonly (string Row, string Title, int Steps)[] Rows =
    [
        ("step:resnet18:8:32:32:cl", "tiny step (resnet18 w8, batch 32)", 150),
        ("step:resnet18:16:64:128:cl", "cpu-small step (w16, batch 128)", 40),
    ];

    public static void Run(string self, int threads, TextWriter o)
    {
        o.WriteLine($"| row | competitor | threads | images/s | share |");
        o.WriteLine("| --- | --- | --- | --- | --- |");
        foreach (var (row, title, steps) in Rows)
        {
            double alone = Measure(self, row, steps, threads, share: false);
            o.WriteLine(Line(title, "none", $"{threads} fixed", alone, alone));
            foreach (var competitor in new[] { "busy loop", "a copy of itself" })
            foreach (bool share in new[] { false, true })
            {
                using var other = competitor == "busy loop"
                    ? Process.Start("/bin/sh", ["-c", "while :; do :; done"])
                    : Start(self, row, steps * 10, threads, share);
                try
                {
                    double ips = Measure(self, row, steps, threads, share);
                    o.WriteLine(Line(title, competitor, share ? "shared (default)" : $"{threads} fixed", ips, alone));
                }
                finally
                {
                    other.Kill(entireProcessTree: true);
                    other.WaitForExit();
                }
            }
        }
    }

    private static string Line(string title, string competitor, string threads, double ips, double alone) =>
        string.Create(CultureInfo.InvariantCulture, $"| {title} | {competitor} | {threads} | {ips:F1} | {ips / (alone / 2):F2} |");

    private static string[] WorkerArgs(string self, string row, int steps, int threads) =>
        [self, "--worker", row, "--warmup", "4", "--steps", $"{steps}", "--threads", $"{threads}"];

    private static Dictionary<string, string> Sharing(bool share) => new() { ["AAVAE_BENCH_SHARE"] = share ? "1" : "0" };

    /// <summary>The competing copy: output drained, so it never blocks on a full pipe.</summary>
    private static Process Start(string self, string row, int steps, int threads, bool share)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in WorkerArgs(self, row, steps, threads)) info.ArgumentList.Add(a);
        foreach (var (k, v) in Sharing(share)) info.Environment[k] = v;
        var p = Process.Start(info) ?? throw new InvalidOperationException("cannot start the bench worker");
        _ = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        return p;
    }

    private static double Measure(string self, string row, int steps, int threads, bool share) =>
        Driver.Run("dotnet", WorkerArgs(self, row, steps, threads), Sharing(share)).ImagesPerSecond;
}

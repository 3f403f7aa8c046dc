using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Aavae.Tests.Distributed;

namespace Aavae.Bench;

/// <summary>
/// Data-parallel training between two hosts over TCP (<c>--links</c>, as root): two network
/// namespaces joined by a veth pair stand for two machines (<see cref="TwoHosts"/>), with the link
/// left at the veth's own speed or held to 10 and 1 Gbit/s by a token bucket (emulated: the same
/// machine's cores run both hosts). For each link: the all-reduce's time by size, fitted to
/// latency + bytes / bandwidth, and the real step (the data-parallel worker) at two widths; then
/// the N-machine cost model on the fitted links.
/// </summary>
public static class LinkBench
{
    private static readonly (string Name, string? Rate)[] Links = [("veth", null), ("10 Gbit/s (tbf)", "10gbit"), ("1 Gbit/s (tbf)", "1gbit")];

    public sealed record Fit(string Link, double LatencySeconds, double BytesPerSecond, List<double[]> Points);

    public static void Run(string benchDll, TextWriter output)
    {
        var dir = Directory.CreateTempSubdirectory("aavae-links-").FullName;
        // Each host would take every core: one thread a process, as the one-host rows.
        var single = new Dictionary<string, string> { ["OMP_NUM_THREADS"] = "1" };
        var fits = new List<Fit>();
        var steps = new List<(string Link, DataParallelMeasurement M)>();

        fits.Add(Sweep("shared memory (one host)", Start(["mpirun.openmpi", "--oversubscribe", "-np", "2", "dotnet", benchDll, "--dp-allreduce"], single)));
        foreach (var spec in DataParallelBench.Specs)
            steps.Add(("shared memory (one host)", DataParallelBench.Launch(["mpirun.openmpi", "--oversubscribe", "-np", "2"], "Open MPI", spec, benchDll, 1)));
        using (var hosts = new TwoHosts())
            foreach (var (name, rate) in Links)
            {
                hosts.Limit(rate);
                fits.Add(Sweep(name, hosts.Start("openmpi", benchDll, ["--dp-allreduce"], dir, single)));
                foreach (var spec in DataParallelBench.Specs)
                {
                    using var p = hosts.Start("openmpi", benchDll, ["--dp-worker", spec, "--launcher", "Open MPI", "--threads", "1"], dir, single);
                    steps.Add((name, JsonSerializer.Deserialize<DataParallelMeasurement>(DataParallelBench.ResultLine(p, '{', $"{spec} over {name}"))!));
                }
            }

        var c = CultureInfo.InvariantCulture;
        output.WriteLine("All-reduce of float32 between 2 processes (ms, median), and the fit latency + bytes / bandwidth:");
        output.WriteLine();
        output.WriteLine($"| link | {string.Join(" | ", fits[0].Points.Select(p => Size(p[0] * 4)))} | fitted latency us | fitted bandwidth Gbit/s |");
        output.WriteLine($"| --- | {string.Join(" | ", fits[0].Points.Select(_ => "---"))} | --- | --- |");
        foreach (var f in fits)
            output.WriteLine(string.Create(c, $"| {f.Link} | {string.Join(" | ", f.Points.Select(p => p[1].ToString(p[1] < 10 ? "F3" : "F1", c)))} | {f.LatencySeconds * 1e6:F1} | {f.BytesPerSecond * 8 / 1e9:F2} |"));
        output.WriteLine();
        output.WriteLine("The step on 2 processes x 1 thread (the data-parallel worker: forward, backward, all-reduce, Adam):");
        output.WriteLine();
        output.WriteLine("| configuration | link | global batch | step ms | images/s | all-reduce in step ms (share) | all-reduce alone ms | MB a step |");
        output.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var (link, m) in steps.OrderBy(s => s.M.Config, StringComparer.Ordinal))
            output.WriteLine(string.Create(c, $"| {m.Config} | {link} | {m.GlobalBatch} | {m.StepMs:F0} | {m.ImagesPerSecond:F0} | {m.AllReduceInStepMs:F0} ({100 * m.AllReduceInStepMs / m.StepMs:F0}%) | {m.AllReduceAloneMs:F1} | {m.FloatsPerStep * 4 / 1e6:F1} |"));
        output.WriteLine();
        var links = fits.Skip(1).Select(f => (f.Link, f.BytesPerSecond, f.LatencySeconds / 2))
            // No netem in this machine's kernel: a real 10 Gbit/s link's 50 us is added to the model, not imposed on the veth.
            .Append(("10 Gbit/s (tbf) + 50 us", fits.Single(f => f.Link.StartsWith("10 ", StringComparison.Ordinal)).BytesPerSecond, 50e-6))
            .ToArray();
        // The compute side: one process with both cores, per image, as the one-host cost model.
        var compute = new[] { "resnet18:64:64:6", "resnet50:64:16:2" }.ToDictionary(spec => spec.Split(':')[0], spec =>
        {
            var m = DataParallelBench.Launch([], "-", spec, benchDll, Environment.ProcessorCount);
            return m.StepMs / 1000 / m.GlobalBatch;
        });
        DataParallelBench.CostModel(output, compute, links);
        Directory.Delete(dir, recursive: true);
    }

    private static Process Start(string[] command, Dictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in command.Skip(1)) info.ArgumentList.Add(a);
        info.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = info.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        foreach (var (k, v) in environment) info.Environment[k] = v;
        return Process.Start(info)!;
    }

    /// <summary>
    /// A 2-process all-reduce of b bytes costs latency + b / bandwidth (its two rounds, each half the
    /// bytes, folded in): the latency is the smallest all-reduce's time, the bandwidth the least-squares
    /// slope over the sizes of a megabyte and more (below that, the time is mostly per-message cost).
    /// </summary>
    private static Fit Sweep(string link, Process p)
    {
        using (p)
        {
            var points = JsonSerializer.Deserialize<List<double[]>>(DataParallelBench.ResultLine(p, '[', $"all-reduce sizes over {link}"))!;
            var large = points.Where(q => q[0] * 4 >= 1e6).ToArray();
            var x = large.Select(q => q[0] * 4).ToArray();
            var y = large.Select(q => q[1] / 1000).ToArray();
            double mx = x.Average(), my = y.Average();
            double slope = x.Zip(y).Sum(q => (q.First - mx) * (q.Second - my)) / x.Sum(v => (v - mx) * (v - mx));
            return new Fit(link, points[0][1] / 1000, 1 / slope, points);
        }
    }

    private static string Size(double bytes) => bytes >= 1e6 ? $"{bytes / 1e6:F0} MB" : bytes >= 1e3 ? $"{bytes / 1e3:F0} KB" : $"{bytes:F0} B";
}

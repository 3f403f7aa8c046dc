using System.Diagnostics;
using System.Text.Json;
using Aavae.Augmentation;
using Aavae.Data;
using Aavae.Distributed;
using Aavae.Models;
using Aavae.Optimization;
using Aavae.Runtime;
using static TorchSharp.torch;

namespace Aavae.Bench;

/// <summary>One data-parallel measurement: a configuration on some processes, as rank 0 prints it.</summary>
public sealed record DataParallelMeasurement(string Config, string Launcher, int Processes, int Threads, int GlobalBatch,
    double StepMs, double ImagesPerSecond, double AllReduceInStepMs, double AllReduceAloneMs, long FloatsPerStep);

/// <summary>
/// Data-parallel scaling on this machine (<c>--data-parallel</c>): the real pre-training step
/// (Fashion-MNIST views of the process's shard, AAVAE forward and backward, the gradient bucket's
/// all-reduce, Adam) on one process with every core, then on two processes with the cores split,
/// under Open MPI and MPICH; and the ring all-reduce cost model for N machines.
/// </summary>
public static class DataParallelBench
{
    public static readonly (string Encoder, int Width, int Batch, int Steps)[] Configs =
        [("resnet18", 16, 128, 12), ("resnet18", 64, 64, 6)];

    /// <summary>The configurations as the worker reads them: ENC:WIDTH:BATCH:STEPS.</summary>
    public static IEnumerable<string> Specs => Configs.Select(c => $"{c.Encoder}:{c.Width}:{c.Batch}:{c.Steps}");

    /// <summary>Runs under a launcher (or alone): <c>--dp-worker ENC:WIDTH:BATCH:STEPS</c>; rank 0 prints the measurement as JSON.</summary>
    public static void Worker(string spec, string launcher, TextWriter output)
    {
        var p = spec.Split(':');
        string encoder = p[0];
        int width = int.Parse(p[1]), batch = int.Parse(p[2]), steps = int.Parse(p[3]);
        const int warmup = 2;
        using var group = ProcessGroups.Start();
        var shard = group.Shard();
        using var data = DataModule.Load("fashion-mnist", null);
        var views = new Views(data.Info, CPU);
        manual_seed(0);
        using var model = new AavaeModel(new ModelOptions { Encoder = encoder, Width = width, LatentDim = 64 });
        model.train();
        var groups = ParameterGroups.Create(model, 0, false);
        using var adam = new AdamOptimizer(groups, 2.5e-4);
        var trainable = groups.SelectMany(g => g.Parameters).ToList();
        using var bucket = new GradientBucket(group, trainable, model.named_buffers().Select(b => b.buffer).Where(b => b.is_floating_point()).ToList());
        foreach (var t in model.parameters()) group.Broadcast(t);

        var order = Enumerable.Range(0, data.PretrainTrain.Count).Select(i => (long)i).ToArray();
        new Random(0).Shuffle(order);
        var stepTimes = new List<double>();
        var reduceTimes = new List<double>();
        for (int i = 0; i < warmup + steps; i++)
        {
            var clock = Stopwatch.StartNew();
            double reduce;
            using (NewDisposeScope())
            {
                var (x, original, _) = views.Pretraining(data.PretrainTrain, order[(i * batch)..((i + 1) * batch)], true, new Random(i), shard);
                adam.ZeroGrad();
                var step = model.forward(x, original);
                step.Loss.backward();
                var reduceClock = Stopwatch.StartNew();
                bucket.Average(new Dictionary<string, Tensor>(step.Metrics), stopRequested: false);
                reduce = reduceClock.Elapsed.TotalMilliseconds;
                adam.Step();
            }
            if (i < warmup) continue;
            stepTimes.Add(clock.Elapsed.TotalMilliseconds);
            reduceTimes.Add(reduce);
        }

        // The all-reduce alone, every process already waiting: the transport's cost without the wait for the slowest.
        var alone = new List<double>();
        using (var buffer = zeros(bucket.Floats))
            for (int i = 0; i < 6; i++)
            {
                group.Any(false);
                var clock = Stopwatch.StartNew();
                group.AllReduceSum(buffer);
                alone.Add(clock.Elapsed.TotalMilliseconds);
            }
        double stepMs = Median(stepTimes);
        if (group.Rank != 0) return;
        var measurement = new DataParallelMeasurement($"{encoder} w{width}", group.Size == 1 ? "-" : launcher, group.Size, get_num_threads(), batch,
            stepMs, batch / (stepMs / 1000), Median(reduceTimes), group.Size == 1 ? 0 : Median(alone), bucket.Floats);
        output.WriteLine(JsonSerializer.Serialize(measurement));
    }

    /// <summary>
    /// Runs under a launcher: <c>--dp-allreduce</c> times an in-place all-reduce of growing sizes,
    /// every process already waiting; rank 0 prints (floats, median ms) pairs as JSON.
    /// </summary>
    public static void AllReduceSweep(TextWriter output)
    {
        using var group = ProcessGroups.Start();
        var result = new List<double[]>();
        foreach (long floats in (long[])[16, 1 << 10, 1 << 14, 1 << 18, 1 << 20, 1 << 22, 1 << 24])
        {
            using var buffer = zeros(floats);
            var times = new List<double>();
            int repeats = floats >= 1 << 22 ? 5 : 20;
            for (int i = 0; i < repeats + 2; i++)
            {
                group.Any(false);
                var clock = Stopwatch.StartNew();
                group.AllReduceSum(buffer);
                if (i >= 2) times.Add(clock.Elapsed.TotalMilliseconds);
            }
            result.Add([floats, Median(times)]);
        }
        if (group.Rank == 0) output.WriteLine(JsonSerializer.Serialize(result));
    }

    /// <summary>The driver: every configuration alone and on two processes under each launcher; then the cost model.</summary>
    public static void Run(string benchDll, int threads, TextWriter output)
    {
        var results = new List<DataParallelMeasurement>();
        foreach (var spec in Specs)
        {
            results.Add(Launch([], "-", spec, benchDll, threads));
            results.Add(Launch(["mpirun.openmpi", "--oversubscribe", "-np", "2"], "Open MPI", spec, benchDll, threads));
            results.Add(Launch(["mpirun.mpich", "-np", "2"], "MPICH", spec, benchDll, threads));
        }
        output.WriteLine("| configuration | launcher | processes x threads | global batch | step ms | images/s | speed-up | all-reduce in step ms (share) | all-reduce alone ms | floats/step |");
        output.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var r in results)
        {
            var alone = results.First(b => b.Config == r.Config && b.Processes == 1);
            output.WriteLine($"| {r.Config} | {r.Launcher} | {r.Processes} x {r.Threads} | {r.GlobalBatch} | {r.StepMs:F0} | {r.ImagesPerSecond:F0} | {r.ImagesPerSecond / alone.ImagesPerSecond:F2}x | " +
                $"{(r.Processes == 1 ? "-" : $"{r.AllReduceInStepMs:F0} ({100 * r.AllReduceInStepMs / r.StepMs:F0}%)")} | {(r.Processes == 1 ? "-" : $"{r.AllReduceAloneMs:F1}")} | {r.FloatsPerStep / 1e6:F2} M |");
        }
        output.WriteLine();
        // The compute side of the cost model: one process on this machine, width 64, per image.
        var resnet50 = Launch([], "-", "resnet50:64:16:2", benchDll, threads);
        var resnet18 = results.First(r => r.Config == "resnet18 w64" && r.Processes == 1);
        CostModel(output, new() { ["resnet18"] = resnet18.StepMs / 1000 / resnet18.GlobalBatch, ["resnet50"] = resnet50.StepMs / 1000 / resnet50.GlobalBatch });
    }

    internal static DataParallelMeasurement Launch(string[] launcher, string name, string spec, string benchDll, int threads)
    {
        var info = new ProcessStartInfo(launcher.Length > 0 ? launcher[0] : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in launcher.Skip(1)) info.ArgumentList.Add(a);
        if (launcher.Length > 0) info.ArgumentList.Add("dotnet");
        foreach (var a in new[] { benchDll, "--dp-worker", spec, "--launcher", name, "--threads", threads.ToString() }) info.ArgumentList.Add(a);
        info.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
        info.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        using var p = Process.Start(info)!;
        return JsonSerializer.Deserialize<DataParallelMeasurement>(ResultLine(p, '{', $"{spec} {name}"))!;
    }

    /// <summary>The last line of <paramref name="p"/>'s output that holds a JSON result starting with <paramref name="start"/>, once it has ended.</summary>
    internal static string ResultLine(Process p, char start, string what)
    {
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        // Open MPI's launcher may put terminal escapes before a process's first line.
        var clean = System.Text.RegularExpressions.Regex.Replace(stdout, @"\x1b(\[[0-9;?]*[A-Za-z]|[=>])", "");
        var line = clean.Split('\n').Where(l => l.Contains(start)).Select(l => l[l.IndexOf(start)..].Trim()).LastOrDefault()
            ?? throw new InvalidOperationException($"{what} printed no result (exit {p.ExitCode}): {stderr.Result}");
        Console.Error.WriteLine($"  {what}: {line}");
        return line;
    }

    /// <summary>
    /// Ring all-reduce over N machines: each sends and receives 2 (N - 1) / N of the gradient bytes,
    /// in 2 (N - 1) latency-bound rounds. With no overlap of communication and computation (one
    /// bucket after backward, as here), a step takes compute + all-reduce, and the scaling efficiency
    /// at a fixed per-machine batch is compute / (compute + all-reduce).
    /// </summary>
    /// <param name="secondsPerImage">A step's compute per image on one machine, by encoder (measured here).</param>
    /// <param name="links">Bandwidth (bytes/s) and latency of a round, by link; null: nominal 10 Gbit/s TCP (30 us) and 100 Gbit/s RDMA (3 us).</param>
    public static void CostModel(TextWriter output, Dictionary<string, double> secondsPerImage, (string Name, double BytesPerSecond, double Latency)[]? links = null, int batchPerMachine = 256)
    {
        links ??= [("10 Gbit/s", 10e9 / 8, 30e-6), ("100 Gbit/s", 100e9 / 8, 3e-6)];
        int[] nodes = [2, 4, 8, 16, 32, 64];
        var rows = new List<(string Model, double Mb, string Link, double Compute, double[] Comm)>();
        foreach (var encoder in new[] { "resnet18", "resnet50" })
        {
            long floats;
            using (var model = new AavaeModel(new ModelOptions { Encoder = encoder, Width = 64 }))
                floats = model.parameters().Sum(p => p.numel()) + model.named_buffers().Where(b => b.buffer.is_floating_point()).Sum(b => b.buffer.numel());
            double bytes = floats * 4.0;
            foreach (var (link, bandwidth, latency) in links)
                rows.Add(($"{encoder} + {Architecture.MatchingDecoder(encoder)}", bytes / 1e6, link, secondsPerImage[encoder] * batchPerMachine,
                    nodes.Select(n => 2.0 * (n - 1) / n * bytes / bandwidth + 2.0 * (n - 1) * latency).ToArray()));
        }
        string Header(string first) => $"| model (width 64) | gradient MB | link | {first}{string.Join(" | ", nodes.Select(n => $"N={n}"))} |\n| --- | --- | --- | {(first == "" ? "" : "--- | ")}{string.Join(" | ", nodes.Select(_ => "---"))} |";

        output.WriteLine("Ring all-reduce per step (ms):");
        output.WriteLine();
        output.WriteLine(Header(""));
        foreach (var r in rows) output.WriteLine($"| {r.Model} | {r.Mb:F0} | {r.Link} | {string.Join(" | ", r.Comm.Select(t => $"{t * 1000:F0}"))} |");
        output.WriteLine();
        output.WriteLine($"Scaling efficiency, machines like this one ({batchPerMachine} images per machine per step, compute measured here):");
        output.WriteLine();
        output.WriteLine(Header("compute s | "));
        foreach (var r in rows) output.WriteLine($"| {r.Model} | {r.Mb:F0} | {r.Link} | {r.Compute:F1} | {string.Join(" | ", r.Comm.Select(t => $"{100 * r.Compute / (r.Compute + t):F1}%"))} |");
        output.WriteLine();
        output.WriteLine("Compute per step a machine needs for 90% efficiency (9 x the all-reduce; a GPU's step is compared with this):");
        output.WriteLine();
        output.WriteLine(Header(""));
        foreach (var r in rows) output.WriteLine($"| {r.Model} | {r.Mb:F0} | {r.Link} | {string.Join(" | ", r.Comm.Select(t => $"{9 * t:F2} s"))} |");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

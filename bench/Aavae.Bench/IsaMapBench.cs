using System.Diagnostics;
using System.Globalization;
using Aavae.Diagnostics;
using Aavae.Kernels;
using Aavae.Models;
using Aavae.Runtime;
using static TorchSharp.torch;

namespace Aavae.Bench;

/// <summary>
/// Which convolution calls fail under each instruction set oneDNN can be capped to, for the
/// networks the project builds: ResNet-18 (or ResNet-50) at each width, in each layout, at the tests' and the
/// presets' batch sizes (a training step's calls) and the evaluation batch (an encoding pass's).
/// Every call runs in the guard's trial process under ONEDNN_MAX_CPU_ISA, exactly as the guard
/// runs it before a real run (one thread, then the bench's thread count); a failure is a crash, a
/// hang past the time limit, or a wrong value check. Prints one table row per cell and the failing calls.
/// </summary>
public static class IsaMapBench
{
    public static void Run(TextWriter output, string program, string encoder, IReadOnlyList<string> isas, IReadOnlyList<int> widths, IReadOnlyList<long> batches, long evalBatch)
    {
        output.WriteLine($"trial host: {program}; {get_num_threads()} threads; CPU: {CpuInfo.Field(CpuInfo.Lines, "model name")}, family {CpuInfo.Field(CpuInfo.Lines, "cpu family")} model {CpuInfo.Field(CpuInfo.Lines, "model")}");
        output.WriteLine();
        output.WriteLine($"{encoder} with its decoder:");
        output.WriteLine();
        output.WriteLine("| ISA cap | width | layout | batch | calls | failing natively | rerouted to | seconds |");
        output.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        var failures = new List<string>();
        foreach (var isa in isas)
        {
            var host = TrialHost.Program(program);
            using var guard = new KernelGuard(host: isa == "native" ? host : host.CappedAt(isa));
            foreach (int width in widths)
            foreach (var format in new[] { MemoryFormat.ChannelsLast, MemoryFormat.Contiguous })
            foreach (long batch in batches.Append(-evalBatch))
            {
                var clock = Stopwatch.StartNew();
                manual_seed(0);
                using var model = new AavaeModel(new ModelOptions { Encoder = encoder, Width = width, LatentDim = Math.Max(8, 2 * width) });
                ChannelsLast.Apply(model, format);
                // A negative batch stands for the encoding pass (forward only, eval mode).
                var problems = batch > 0 ? ConvWorkload.TrainingStep(model, batch) : ConvWorkload.Encoding(model, -batch);
                var decisions = problems.Select(p => guard.Route(p, CPU)).ToList();
                var failing = decisions.Where(d => d.Rerouted).ToList();
                var routes = failing.Select(d => d.Route is { } r ? ConvDecision.RouteName(r) : "none").Distinct();
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {isa} | {width} | {format.Name()} | {(batch > 0 ? $"{batch} (train)" : $"{-batch} (encode)")} | {problems.Count} | {failing.Count} | {(failing.Count == 0 ? "" : string.Join(", ", routes))} | {clock.Elapsed.TotalSeconds:F0} |"));
                output.Flush();
                failures.AddRange(failing.Select(d => $"{isa}: {d}"));
            }
        }
        output.WriteLine();
        output.WriteLine(failures.Count == 0 ? "no call failed" : "failing calls:");
        foreach (var f in failures.Distinct()) output.WriteLine($"- {f}");
    }
}

using Aavae.Optimization;
using System.Diagnostics;
using Aavae.Kernels;
using Aavae.Models;
using Aavae.Objectives;
using Aavae.Runtime;
using Aavae.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Bench;

/// <summary>
/// The convolution guard's cost: its one-time check of a model's shapes against one training step
/// of that model (target under 1%), and each fallback route's forward+backward time against the
/// plain layer's for the shapes that would use it (they run only where libtorch is wrong).
/// </summary>
public static class GuardBench
{
    /// <param name="program">The aavae program that serves the trials (<see cref="TrialHost"/>).</param>
    public static void Run(TextWriter output, int batch, string program)
    {
        // What a run pays at its start: the value check of each shape, then, inside the first step,
        // each convolution call tried once in the trial process (one thread, then the bench's count).
        // The first step without trials (the guard checking values in this process, as a library
        // without the program does) is the baseline: both pay oneDNN's first-call set-up.
        output.WriteLine($"| network (channels-last, float32, batch {batch}) | shapes | calls tried | value check, trial process | first step with trials | first step without | steady step | start cost / steady step |");
        output.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var (name, options) in new[]
        {
            ("resnet18 w16", new ModelOptions { Encoder = "resnet18", Width = 16, LatentDim = 64 }),
            ("resnet18 w32 (cpu-small)", new ModelOptions { Encoder = "resnet18", Width = 32, LatentDim = 128 }),
            ("resnet18 w64", new ModelOptions { Encoder = "resnet18", Width = 64, LatentDim = 128 }),
        })
        {
            using var guard = new KernelGuard(host: TrialHost.Program(program)); // a fresh cache and trial process: what a new run pays
            manual_seed(0);
            using var model = new AavaeModel(options);
            ChannelsLast.Apply(model, MemoryFormat.ChannelsLast);
            var sw = Stopwatch.StartNew();
            var report = guard.Protect(model, CPU);
            double check = sw.Elapsed.TotalSeconds;
            var steps = StepTimes(model, batch, 4);
            double steady = steps.Skip(1).Order().ElementAt(1);

            using var local = new KernelGuard();
            manual_seed(0);
            using var plainModel = new AavaeModel(options);
            ChannelsLast.Apply(plainModel, MemoryFormat.ChannelsLast);
            local.Protect(plainModel, CPU);
            double firstWithout = StepTimes(plainModel, batch, 1)[0];
            double cost = check + steps[0] - firstWithout;
            output.WriteLine($"| {name} | {report.Decisions.Count} | {guard.Problems.Count} | {check:F1} s | {steps[0]:F1} s | {firstWithout:F1} s | {steady * 1000:F0} ms | {cost:F1} s = {cost / steady:F1} steps |");
        }

        output.WriteLine();
        output.WriteLine($"| layer (input batch {batch}) | route | forward+backward | TorchSharp's Conv2d | ratio |");
        output.WriteLine("| --- | --- | --- | --- | --- |");
        foreach (var (shape, size) in new[] { (new ConvShape(16, 3, 3, 1, 1, true), 32L), (new ConvShape(64, 64, 3, 1, 1, false), 32L) })
        {
            // Protected by a guard with a trial process: each call looks its problem up before it runs (tried once, outside the timing).
            using var guard = new KernelGuard(host: TrialHost.Program(program));
            double guarded = LayerSeconds(shape, ConvRoute.Native, size, batch, guard);
            double plain = TorchSharpConvSeconds(shape, size, batch);
            output.WriteLine($"| {shape} | native (guarded layer, every step, its calls looked up) | {guarded * 1000:F1} ms | {plain * 1000:F1} ms | {guarded / plain:F2}x |");
        }

        output.WriteLine();
        output.WriteLine($"| layer (input batch {batch}) | route | forward+backward | plain layer | ratio |");
        output.WriteLine("| --- | --- | --- | --- | --- |");
        foreach (var (shape, size) in new[]
        {
            (new ConvShape(16, 3, 3, 1, 1, true), 32L),   // cpu-small's final_conv
            (new ConvShape(64, 3, 3, 1, 1, true), 32L),   // the reference's final_conv
            (new ConvShape(8, 8, 3, 1, 1, true), 32L),    // width-8 decoder
            (new ConvShape(64, 64, 3, 1, 1, false), 32L), // a stage of resnet18 w64
        })
        {
            double plain = LayerSeconds(shape, ConvRoute.Native, size, batch);
            foreach (var route in ConvRoutes.FallbacksFor(shape))
            {
                double t = LayerSeconds(shape, route, size, batch);
                output.WriteLine($"| {shape} | {ConvDecision.RouteName(route)} | {t * 1000:F1} ms | {plain * 1000:F1} ms | {t / plain:F2}x |");
            }
        }
    }

    /// <summary>Seconds of each of <paramref name="count"/> training steps (Adam), the first one first.</summary>
    private static List<double> StepTimes(AavaeModel model, int batch, int count)
    {
        model.train();
        using var adam = new AdamOptimizer([new ParameterGroup(model.parameters().ToList(), 0, false)], 1e-3);
        var objective = new VaeObjective(0);
        using var x = ChannelsLast.Copy(randn(batch, 3, 32, 32));
        using var original = ChannelsLast.Copy(randn(batch, 3, 32, 32));
        var times = new List<double>();
        for (int i = 0; i < count; i++)
        {
            var sw = Stopwatch.StartNew();
            using (NewDisposeScope())
            {
                adam.ZeroGrad();
                model.forward(x, original, 1, objective).Loss.backward();
                adam.Step();
            }
            times.Add(sw.Elapsed.TotalSeconds);
        }
        return times;
    }

    private static double LayerSeconds(ConvShape shape, ConvRoute route, long size, int batch, KernelGuard? guard = null)
    {
        using var layer = GuardedConv2d.Create(shape.InChannels, shape.OutChannels, shape.Kernel, shape.Stride, shape.Padding, shape.Bias);
        using var network = nn.Sequential(layer);
        guard?.Protect(network, CPU);
        layer.Route = route;
        return Median(layer, shape, size, batch);
    }

    private static double TorchSharpConvSeconds(ConvShape shape, long size, int batch)
    {
        using var layer = nn.Conv2d(shape.InChannels, shape.OutChannels, shape.Kernel, shape.Stride, shape.Padding, bias: shape.Bias);
        return Median(layer, shape, size, batch);
    }

    private static double Median(nn.Module<Tensor, Tensor> layer, ConvShape shape, long size, int batch)
    {
        using var x = randn(batch, shape.InChannels, size, size).requires_grad_();
        var times = new List<double>();
        for (int i = 0; i < 12; i++)
        {
            var sw = Stopwatch.StartNew();
            using (NewDisposeScope())
            {
                var y = layer.call(x);
                y.backward([ones_like(y)]);
            }
            if (i > 1) times.Add(sw.Elapsed.TotalSeconds);
        }
        return times.Order().ElementAt(times.Count / 2);
    }
}

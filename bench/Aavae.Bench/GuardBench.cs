using Aavae.Optimization;
using System.Diagnostics;
using Aavae.Kernels;
using Aavae.Models;
using Aavae.Objectives;
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
    public static void Run(TextWriter output, int batch)
    {
        output.WriteLine($"| network | shapes | guard check (first, cold) | one training step, batch {batch} | check / step |");
        output.WriteLine("| --- | --- | --- | --- | --- |");
        foreach (var (name, options) in new[]
        {
            ("resnet18 w16", new ModelOptions { Encoder = "resnet18", Width = 16, LatentDim = 64 }),
            ("resnet18 w64", new ModelOptions { Encoder = "resnet18", Width = 64, LatentDim = 128 }),
        })
        {
            manual_seed(0);
            using var model = new AavaeModel(options);
            var guard = new KernelGuard(); // a fresh cache: the cost a new process pays
            var sw = Stopwatch.StartNew();
            var report = guard.Protect(model, CPU);
            double check = sw.Elapsed.TotalSeconds;
            double step = StepSeconds(model, batch);
            output.WriteLine($"| {name} | {report.Decisions.Count} | {check * 1000:F0} ms | {step * 1000:F0} ms | {check / step:P2} |");
        }

        output.WriteLine();
        output.WriteLine($"| layer (input batch {batch}) | route | forward+backward | TorchSharp's Conv2d | ratio |");
        output.WriteLine("| --- | --- | --- | --- | --- |");
        foreach (var (shape, size) in new[] { (new ConvShape(16, 3, 3, 1, 1, true), 32L), (new ConvShape(64, 64, 3, 1, 1, false), 32L) })
        {
            double guarded = LayerSeconds(shape, ConvRoute.Native, size, batch);
            double plain = TorchSharpConvSeconds(shape, size, batch);
            output.WriteLine($"| {shape} | native (guarded layer, every step) | {guarded * 1000:F1} ms | {plain * 1000:F1} ms | {guarded / plain:F2}x |");
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

    private static double StepSeconds(AavaeModel model, int batch)
    {
        model.train();
        using var adam = new AdamOptimizer([new ParameterGroup(model.parameters().ToList(), 0, false)], 1e-3);
        var objective = new VaeObjective(0);
        using var x = randn(batch, 3, 32, 32);
        using var original = randn(batch, 3, 32, 32);
        var times = new List<double>();
        for (int i = 0; i < 4; i++)
        {
            var sw = Stopwatch.StartNew();
            using (NewDisposeScope())
            {
                adam.ZeroGrad();
                model.forward(x, original, 1, objective).Loss.backward();
                adam.Step();
            }
            if (i > 0) times.Add(sw.Elapsed.TotalSeconds);
        }
        return times.Order().ElementAt(times.Count / 2);
    }

    private static double LayerSeconds(ConvShape shape, ConvRoute route, long size, int batch)
    {
        using var layer = GuardedConv2d.Create(shape.InChannels, shape.OutChannels, shape.Kernel, shape.Stride, shape.Padding, shape.Bias);
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

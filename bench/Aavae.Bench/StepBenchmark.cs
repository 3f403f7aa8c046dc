using System.Diagnostics;
using Aavae.Models;
using Aavae.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Bench;

/// <summary>One row of the table: a configuration and its measured throughput.</summary>
public sealed record StepResult(string Name, int Batch, int Steps, double MedianSeconds, double ImagesPerSecond, long PeakRssMb);

/// <summary>
/// Times the full pre-training step: encoder on both views, projection, decoder, objective,
/// backward and Adam, each step in its own dispose scope as the trainer will run it.
/// </summary>
public static class StepBenchmark
{
    public static StepResult Run(string name, ModelOptions options, int batch, int warmup, int steps)
    {
        manual_seed(0);
        using var model = new AavaeModel(options);
        model.train();
        using var adam = optim.Adam(model.parameters(), 2.5e-4);
        var objective = new VaeObjective(0);
        using var x = randn(batch, 3, options.InputHeight, options.InputHeight);
        using var original = randn(batch, 3, options.InputHeight, options.InputHeight);

        var times = new List<double>();
        for (int i = 0; i < warmup + steps; i++)
        {
            var sw = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                adam.zero_grad();
                objective.Step(model, x, original).Loss.backward();
                adam.step();
            }
            if (i >= warmup) times.Add(sw.Elapsed.TotalSeconds);
        }
        times.Sort();
        double median = times[times.Count / 2];
        return new StepResult(name, batch, steps, median, batch / median, Environment.WorkingSet / (1 << 20));
    }
}

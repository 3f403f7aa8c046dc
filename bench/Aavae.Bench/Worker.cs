using Aavae.Optimization;
using Aavae.Progress;
using System.Diagnostics;
using Aavae.Augmentation;
using Aavae.Data;
using Aavae.Models;
using Aavae.Objectives;
using Aavae.Runtime;
using Aavae.Training;
using TorchSharp;
using static TorchSharp.torch;
using Aavae.Runs;
using Aavae.Checkpoints;
using Aavae.Options;

namespace Aavae.Bench;

/// <summary>
/// Measures one row in a fresh process, so peak memory belongs to that row alone:
/// <c>step:ENC:WIDTH:LATENT:BATCH</c> (encoder on both views, decoder, objective, backward, Adam),
/// <c>drift:...</c> (the same, many steps, for memory growth), <c>encode:ENC:WIDTH:BATCH</c>
/// (evaluation forward), <c>augment:SIZE:BATCH</c> (SimCLR + original views) and
/// <c>epoch:ENC:WIDTH:LATENT:BATCH</c> (the trainer on Fashion-MNIST: loader, views, step).
/// </summary>
public static class Worker
{
    public static Measurement Run(string row, int warmup, int steps)
    {
        var p = row.Split(':');
        var times = new List<double>();
        double afterWarmup = 0, maxAfterWarmup = 0, warmupCyclePeak = 0;
        int batch;
        // The trainer's memory upkeep; AAVAE_BENCH_COLLECT_EVERY=0 / AAVAE_BENCH_TRIM_EVERY=0 measure without it.
        int trimEvery = int.Parse(Environment.GetEnvironmentVariable("AAVAE_BENCH_TRIM_EVERY") ?? $"{Aavae.Runtime.StepMemory.DefaultTrimEvery}");
        var memory = new Aavae.Runtime.StepMemory(int.Parse(Environment.GetEnvironmentVariable("AAVAE_BENCH_COLLECT_EVERY") ?? "1"), trimEvery);
        // Between two trims resident memory saws up and down; the level growth is judged against is the last warm-up cycle's top.
        int cycle = Math.Max(trimEvery, 1);
        // AAVAE_BENCH_SHARE=1: give cores up to other processes as training does by default (Runtime/CoreShare.cs); else the count stays --threads.
        bool share = Environment.GetEnvironmentVariable("AAVAE_BENCH_SHARE") == "1";
        void Time(Action step)
        {
            using var cores = CoreShare.ForLoop(share ? null : get_num_threads(), Console.Error.WriteLine);
            for (int i = 0; i < warmup + steps; i++)
            {
                if (i == warmup) afterWarmup = Memory.CurrentMb();
                var sw = Stopwatch.StartNew();
                using (NewDisposeScope()) step();
                memory.AfterStep();
                cores.AfterStep();
                if (i >= warmup)
                {
                    times.Add(sw.Elapsed.TotalSeconds);
                    maxAfterWarmup = Math.Max(maxAfterWarmup, Memory.CurrentMb());
                }
                else if (i >= warmup - cycle)
                    warmupCyclePeak = Math.Max(warmupCyclePeak, Memory.CurrentMb());
            }
        }

        manual_seed(0);
        // Optional last fields, as pytorch_bench.py reads them: "cl" (channels-last), then "bf16" (bf16-mixed).
        var precision = p[^1] == "bf16" ? Precision.Bf16Mixed : Precision.Full32;
        if (precision == Precision.Bf16Mixed) p = p[..^1];
        var format = p[^1] == "cl" ? MemoryFormat.ChannelsLast : MemoryFormat.Contiguous;
        if (format == MemoryFormat.ChannelsLast) p = p[..^1];
        switch (p[0])
        {
            case "step" or "drift":
            {
                batch = int.Parse(p[4]);
                using var model = new AavaeModel(new ModelOptions { Encoder = p[1], Width = int.Parse(p[2]), LatentDim = int.Parse(p[3]) });
                model.train();
                ChannelsLast.Apply(model, format);
                MixedPrecision.Apply(model, precision);
                using var adam = new AdamOptimizer([new ParameterGroup(model.parameters().ToList(), 0, false)], 2.5e-4);
                var objective = new VaeObjective(0);
                using var x = randn(batch, 3, 32, 32);
                using var original = randn(batch, 3, 32, 32);
                Time(() =>
                {
                    adam.ZeroGrad();
                    model.forward(x, original, 1, objective).Loss.backward();
                    adam.Step();
                });
                break;
            }
            case "encode":
            {
                batch = int.Parse(p[3]);
                using var encoder = new ResNetEncoder(Architecture.Encoder(p[1]), Stem.Cifar, int.Parse(p[2]));
                encoder.eval();
                ChannelsLast.Apply(encoder, format);
                MixedPrecision.Apply(encoder, precision);
                // As evaluation builds it (CheckpointEncoder.Build); AAVAE_BENCH_FOLD=0 measures without.
                if (Environment.GetEnvironmentVariable("AAVAE_BENCH_FOLD") != "0") BatchNormFolding.Fold(encoder);
                using var x = randn(batch, 3, 32, 32);
                Time(() =>
                {
                    using var _ = inference_mode();
                    encoder.call(x);
                });
                break;
            }
            case "onnx":
            {
                // The same encoder forward as "encode", exported to ONNX and run by ONNX Runtime with the same threads.
                batch = int.Parse(p[3]);
                using var encoder = new ResNetEncoder(Architecture.Encoder(p[1]), Stem.Cifar, int.Parse(p[2]));
                encoder.eval();
                var path = Path.Combine(Path.GetTempPath(), $"aavae-bench-{Environment.ProcessId}.onnx");
                Aavae.Export.OnnxExport.Write(encoder, 32, DatasetInfo.Cifar10, path, "bench");
                using var options = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = get_num_threads(), InterOpNumThreads = 1 };
                using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path, options);
                File.Delete(path);
                using var x = randn(batch, 3, 32, 32);
                var input = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(x.data<float>().ToArray(), [batch, 3, 32, 32]);
                var inputs = new[] { Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("input", input) };
                Time(() =>
                {
                    using var results = session.Run(inputs);
                });
                break;
            }
            case "eval":
            {
                // Linear evaluation's encoding as it runs: the shipped Fashion-MNIST test split, its
                // evaluation view, the loader, the frozen encoder; one time per batch.
                batch = int.Parse(p[3]);
                using var encoder = new ResNetEncoder(Architecture.Encoder(p[1]), Stem.Cifar, int.Parse(p[2]));
                ChannelsLast.Apply(encoder, format);
                MixedPrecision.Apply(encoder, precision);
                using var data = DataModule.Load("fashion-mnist", null);
                var views = new Views(data.Info, CPU);
                var clock = Stopwatch.StartNew();
                using var features = Aavae.Evaluation.FeatureExtractor.Encode(encoder, data.Test, views, batch, warmup + steps, (done, _) =>
                {
                    if (done == warmup) afterWarmup = Memory.CurrentMb();
                    if (done > warmup) times.Add(clock.Elapsed.TotalSeconds);
                    clock.Restart();
                });
                break;
            }
            case "augment":
            {
                int size = int.Parse(p[1]);
                batch = int.Parse(p[2]);
                var views = new Views(size == 32 ? DatasetInfo.Cifar10 : DatasetInfo.Stl10, CPU);
                using var images = randint(0, 256, [batch, 3, size, size], dtype: ScalarType.Byte);
                var rng = new Random(0);
                Time(() => views.Pretraining(images, denoising: true, rng));
                break;
            }
            case "epoch":
            {
                batch = int.Parse(p[4]);
                var options = new PretrainOptions
                { Model = new ModelOptions { Encoder = p[1], Width = int.Parse(p[2]), LatentDim = int.Parse(p[3]) }, Augmentation = new() { Denoising = true }, Objective = new() { KlCoeff = 0 }, Data = new() { BatchSize = batch }, Trainer = new() { MaxEpochs = 1, LimitTrainBatches = warmup + steps, LimitValBatches = 0, Device = DeviceChoice.Cpu }, Optimizer = new() { WarmupEpochs = 0 }, Monitors = new() { KnnEvery = 0 } };
                var observer = new StepClock(warmup);
                using var trainer = new Pretrainer(options, RunFolder.CreateNew(Path.Combine(Path.GetTempPath(), $"aavae-bench-{Environment.ProcessId}"), overwrite: true), observer);
                trainer.Run();
                times.AddRange(observer.Times);
                afterWarmup = observer.RssAfterWarmup;
                break;
            }
            default:
                throw new ArgumentException($"unknown bench row '{row}'");
        }
        times.Sort();
        double median = times[times.Count / 2];
        return new Measurement(row, $"torchsharp {typeof(torch).Assembly.GetName().Version?.ToString(3)}", batch / median, median,
            Memory.PeakMb(), afterWarmup, Memory.CurrentMb(), get_num_threads(), maxAfterWarmup, warmupCyclePeak);
    }

    /// <summary>Times between consecutive trainer steps: loader, views and step together, as a user's run sees them.</summary>
    private sealed class StepClock(int warmup) : ITrainingObserver
    {
        private readonly Stopwatch clock = Stopwatch.StartNew();
        public List<double> Times { get; } = [];
        public double RssAfterWarmup { get; private set; }

        public void OnStep(StepReport step)
        {
            if (step.GlobalStep == warmup) RssAfterWarmup = Memory.CurrentMb();
            if (step.GlobalStep > warmup) Times.Add(clock.Elapsed.TotalSeconds);
            clock.Restart();
        }

        public void OnEpoch(EpochReport epoch) { }

        public void OnMessage(string message) { }
    }
}

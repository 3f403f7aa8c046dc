using System.Security.Cryptography;
using Aavae.Augmentation;
using Aavae.Data;
using Aavae.Distributed;
using Aavae.Models;
using Aavae.Objectives;
using Aavae.Optimization;
using Aavae.Progress;
using Aavae.Runtime;
using Aavae.Training;
using Aavae.Options;
using Aavae.Runs;
using TorchSharp;
using static TorchSharp.torch;

// Scenarios for tests/Aavae.Tests/Distributed: run under an MPI launcher (or alone, as the
// single-process reference); each process prints "rank R key value" lines.
TorchRuntime.EnsureLoaded();
using var group = ProcessGroups.Start();
try
{
    switch (args[0])
    {
        case "gradients": Gradients(group); break;
        case "train": Train(group, args[1], int.Parse(args[2])); break;
        default: throw new ArgumentException($"unknown scenario {args[0]}");
    }
    return 0;
}
catch (Exception e) when (group.Size > 1)
{
    Console.Error.WriteLine($"rank {group.Rank}: {e}");
    group.Abort(1);
    return 1;
}

// The decoder and objective on fixed latents, BatchNorm on running statistics (eval mode), so a
// batch's loss is the mean of its images' and the processes' averaged gradients must equal the
// gradients of the whole batch in one process. In float64, so that the comparison sees the
// averaging, not float32's summation order.
static void Gradients(IProcessGroup group)
{
    const int batch = 8, latent = 8;
    Determinism.Seed(3);
    var f64 = ScalarType.Float64;
    var noise = randn(batch, latent, f64);
    var mu = randn(batch, latent, f64);
    var logVar = randn(batch, latent, f64).mul(0.1).sub(1);
    var targetMu = randn(batch, latent, f64);
    var targetLogVar = randn(batch, latent, f64).mul(0.1).sub(1);
    using var data = DataModule.Load("fashion-mnist", null);
    var views = new Views(data.Info, CPU);
    var (images, _) = data.Train.GetBatch(Enumerable.Range(0, batch).Select(i => (long)i).ToArray());
    var original = views.Eval(images).to_type(f64);

    Tensor? shardNoise = null;
    var objective = new VaeObjective(0.1, like => shardNoise!);
    using var model = new AavaeModel(new ModelOptions { Encoder = "resnet18", Width = 4, LatentDim = latent, LearnScale = true, LogScale = -1 }, objective);
    model.eval();
    model.to(f64);
    var parameters = model.Decoder.parameters().Append(model.LogScale!).ToList();
    foreach (var p in parameters) group.Broadcast(p);

    Tensor Loss(long[] rows)
    {
        var index = tensor(rows);
        shardNoise = noise.index_select(0, index);
        var output = objective.Compute(new ObjectiveInput(Latent.Gaussian(mu.index_select(0, index), logVar.index_select(0, index)),
            Latent.Gaussian(targetMu.index_select(0, index), targetLogVar.index_select(0, index)),
            original.index_select(0, index), original.index_select(0, index), 1), model);
        return output.Loss;
    }

    var shard = group.Shard();
    Loss(shard.Positions(batch).Select(i => (long)i).ToArray()).backward();
    using var bucket = new GradientBucket(group, parameters, []);
    var metrics = new Dictionary<string, Tensor>();
    bucket.Average(metrics, stopRequested: false);
    var averaged = cat(parameters.Select(p => p.grad!.flatten()).ToArray()).clone();

    foreach (var p in parameters) p.grad!.zero_();
    Loss(Enumerable.Range(0, batch).Select(i => (long)i).ToArray()).backward();
    var whole = cat(parameters.Select(p => p.grad!.flatten()).ToArray());
    double maxDiff = (averaged.to_type(ScalarType.Float64) - whole.to_type(ScalarType.Float64)).abs().max().item<double>();
    Console.WriteLine($"rank {group.Rank} processes {group.Size}");
    Console.WriteLine($"rank {group.Rank} max_abs_diff {maxDiff:R}");
    Console.WriteLine($"rank {group.Rank} max_abs_grad {whole.abs().max().item<double>():R}");
    Console.WriteLine($"rank {group.Rank} grad_digest {Digest([averaged])}");
}

// k steps of the full model through the Pretrainer (online probe, sharded validation): the
// weights every process ends with, and the losses it saw.
static void Train(IProcessGroup group, string dir, int steps)
{
    var options = Presets.WithKind(new PretrainOptions
    { Model = new ModelOptions { Encoder = "resnet18", Width = 4, LatentDim = 8 }, Data = new() { BatchSize = 16 }, Optimizer = new() { LearningRate = 1e-3, WarmupEpochs = 1 }, Objective = new() { ValSamples = 1 }, Trainer = new() { MaxEpochs = 2, LimitTrainBatches = (steps + 1) / 2, LimitValBatches = 2, Device = DeviceChoice.Cpu }, Monitors = new() { KnnEvery = 0, OnlineFt = true }, Seed = 7 }, ModelKind.Aavae);
    var run = group.Rank == 0 ? RunFolder.CreateNew(dir, overwrite: true) : new RunFolder(dir);
    var losses = new LossRecorder();
    using var trainer = new Pretrainer(options, run, new SilentObserver(), extraCallbacks: [losses], group: group);
    var result = trainer.Run();
    var state = trainer.Model.state_dict().OrderBy(kv => kv.Key).Select(kv => kv.Value).ToList();
    Console.WriteLine($"rank {group.Rank} processes {group.Size}");
    Console.WriteLine($"rank {group.Rank} steps {result.Position.GlobalStep}");
    Console.WriteLine($"rank {group.Rank} weights_digest {Digest(state)}");
    Console.WriteLine($"rank {group.Rank} losses {string.Join(",", losses.Values.Select(v => v.ToString("R")))}");
    Console.WriteLine($"rank {group.Rank} val_loss {result.LastEpoch!["val_loss"]:R}");
}

static string Digest(IEnumerable<Tensor> tensors)
{
    using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    foreach (var t in tensors) sha.AppendData(t.contiguous().bytes);
    return Convert.ToHexString(sha.GetHashAndReset())[..16];
}

sealed class LossRecorder : ITrainingCallback
{
    public List<double> Values { get; } = [];
    public void OnTrainBatchEnd(TrainBatchEnd step) => Values.Add(step.Loss);
}

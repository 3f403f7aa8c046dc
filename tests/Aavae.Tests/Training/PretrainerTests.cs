using Aavae.Data;
using Aavae.Evaluation;
using Aavae.Optimization;
using Aavae.Progress;
using Aavae.Kernels;
using Aavae.Configuration;
using Aavae.Checkpoints;
using Aavae.Models;
using Aavae.Training;
using TorchSharp;
using static TorchSharp.torch;
using Aavae.Runs;
using Aavae.Options;

namespace Aavae.Tests.Training;

/// <summary>Tiny runs on the shipped Fashion-MNIST: exact resumption, the NaN guard, and what a run leaves behind.</summary>
[Trait(Category.Name, Category.Slow)]
public class PretrainerTests
{
    /// <summary>3 steps an epoch, 2 epochs, online probe on: small enough for a unit test, with every piece of state in play.</summary>
    internal static PretrainOptions Tiny(string optimizer = "adam") => Presets.WithKind(new PretrainOptions
    {
        Model = new ModelOptions { Encoder = "resnet18", Width = 4, LatentDim = 8 },
        Data = new() { BatchSize = 16 },
        Optimizer = new() { Algorithm = OptimizerKinds.Parse(optimizer), LearningRate = 1e-3, WarmupEpochs = 1, Decay = DecayKind.Cosine },
        Objective = new() { ValSamples = 1 },
        // A fixed thread count: a resumed run and an uninterrupted one must sum in the same order whatever else runs on the machine (Runtime/CoreShare.cs).
        Trainer = new() { MaxEpochs = 2, LimitTrainBatches = 3, LimitValBatches = 1, Device = Aavae.Runtime.DeviceChoice.Cpu, Threads = 2 },
        Monitors = new() { KnnEvery = 0, OnlineFt = true },
        Seed = 7,
    }, ModelKind.Aavae);

    /// <summary>Tiny with its trainer and monitor settings changed.</summary>
    internal static PretrainOptions TinyWith(Func<TrainerOptions, TrainerOptions>? trainer = null, Func<MonitorOptions, MonitorOptions>? monitors = null)
    {
        var tiny = Tiny();
        return tiny with { Trainer = trainer?.Invoke(tiny.Trainer) ?? tiny.Trainer, Monitors = monitors?.Invoke(tiny.Monitors) ?? tiny.Monitors };
    }

    private static Dictionary<string, Tensor> Train(PretrainOptions options, string dir, CancellationToken stop = default, Action<StepReport>? onStep = null)
    {
        var run = RunFolder.CreateNew(dir, overwrite: false);
        using var trainer = new Pretrainer(options, run, new Observer(onStep));
        trainer.Run(stop);
        return Weights(trainer.Model);
    }

    private static Dictionary<string, Tensor> Resume(PretrainOptions options, string dir)
    {
        var run = new RunFolder(dir);
        var checkpoint = TrainingCheckpoint.Read(run.LastCheckpoint);
        using var trainer = new Pretrainer(options, run, new SilentObserver(), checkpoint);
        var result = trainer.Run();
        Assert.False(result.Interrupted);
        return Weights(trainer.Model);
    }

    private static Dictionary<string, Tensor> Weights(AavaeModel model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone().DetachFromDisposeScope());

    private static void AssertBitIdentical(Dictionary<string, Tensor> expected, Dictionary<string, Tensor> actual)
    {
        Assert.Equal(expected.Keys.OrderBy(k => k), actual.Keys.OrderBy(k => k));
        var differing = expected.Where(kv => !kv.Value.eq(actual[kv.Key]).all().item<bool>())
            .Select(kv => $"{kv.Key} (max |diff| {(kv.Value.to_type(ScalarType.Float64) - actual[kv.Key].to_type(ScalarType.Float64)).abs().max().item<double>():G3})").ToList();
        Assert.True(differing.Count == 0, $"{differing.Count} tensors differ after resuming: {string.Join(", ", differing.Take(5))}");
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("lamb")]
    public void StoppedAfterAnEpochAndResumedEndsBitIdentical(string optimizer)
    {
        var options = Tiny(optimizer);
        var straight = Train(options, Path.Combine(TempDir.Create(), "straight"));

        var dir = Path.Combine(TempDir.Create(), "split");
        Train(options with { Trainer = options.Trainer with { MaxSteps = 3 } }, dir);
        Assert.Equal(new TrainingPosition(1, 0, 3), TrainingCheckpoint.Read(new RunFolder(dir).LastCheckpoint).Position);
        var resumed = Resume(options, dir);

        AssertBitIdentical(straight, resumed);
        // The trained weights moved: identical because resumption is exact, not because nothing trained.
        using var fresh = new AavaeModel(options.Model);
        Assert.False(fresh.state_dict()["encoder.conv1.weight"].eq(straight["encoder.conv1.weight"]).all().item<bool>());
    }

    [Fact]
    public void TwoStraightRunsAreBitIdentical()
    {
        var options = Tiny();
        AssertBitIdentical(Train(options, Path.Combine(TempDir.Create(), "a")), Train(options, Path.Combine(TempDir.Create(), "b")));
    }

    [Fact]
    public void InterruptedMidEpochAndResumedEndsBitIdentical()
    {
        var options = Tiny();
        var straight = Train(options, Path.Combine(TempDir.Create(), "straight"));

        var dir = Path.Combine(TempDir.Create(), "interrupted");
        using var stop = new CancellationTokenSource();
        Train(options, dir, stop.Token, s => { if (s.GlobalStep == 2) stop.Cancel(); });
        Assert.Equal(new TrainingPosition(0, 2, 2), TrainingCheckpoint.Read(new RunFolder(dir).LastCheckpoint).Position);
        var resumed = Resume(options, dir);

        AssertBitIdentical(straight, resumed);
    }

    [Fact]
    public void FeatureMonitorLogsTheLinearProbeAndKnnAtTheirOwnCadence()
    {
        var dir = Path.Combine(TempDir.Create(), "run");
        var options = TinyWith(t => t with { MaxEpochs = 3 }, m => m with { KnnEvery = 2, LinearProbeEvery = 1, OnlineFt = false });
        var probed = Train(options, dir);
        // The probe seeds its own initialisation; training's draws (the posterior noise) must not notice.
        AssertBitIdentical(Train(options with { Monitors = options.Monitors with { KnnEvery = 0, LinearProbeEvery = 0 } }, Path.Combine(TempDir.Create(), "unprobed")), probed);
        var rows = MetricsLog.ReadCsv(new RunFolder(dir).Metrics);
        Assert.Equal(3, rows.Count);
        // k-NN every 2 epochs and after the last (epochs 2 and 3); the probe after every epoch.
        Assert.Equal([false, true, true], rows.Select(r => r.ContainsKey("knn_acc")));
        Assert.All(rows, r => Assert.InRange(r["linear_val_acc"], 0, 1));
        // The validation split's 16 images (one batch of 16): an accuracy is a count of them.
        Assert.All(rows, r => Assert.Equal(0, r["linear_val_acc"] * 16 % 1, 9));
    }

    [Fact]
    public void RunFolderHoldsConfigMetricsPicturesAndLightningStyleCheckpoints()
    {
        var dir = Path.Combine(TempDir.Create(), "run");
        Train(TinyWith(t => t with { CheckpointEvery = 1 }), dir);
        var run = new RunFolder(dir);

        Assert.Equal(TinyWith(t => t with { CheckpointEvery = 1 }), PretrainOptions.FromJson(File.ReadAllText(run.Config)));
        // The convolution check's outcome travels with the run: every shape of the width-4 model, each right or rerouted.
        using (var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(run.Config)))
        {
            var check = config.RootElement.GetProperty("kernel_check");
            Assert.Equal(new AavaeModel(Tiny().Model).modules().OfType<GuardedConv2d>().Select(c => c.Shape).Distinct().Count(), check.GetProperty("shapes_checked").GetInt32());
            Assert.Equal(0, check.GetProperty("unfixable").GetArrayLength());
            Assert.Equal(check.GetProperty("all_native").GetBoolean(), check.GetProperty("rerouted").GetArrayLength() == 0);
        }
        var rows = MetricsLog.ReadCsv(run.Metrics);
        Assert.Equal(2, rows.Count);
        foreach (var name in new[] { "train_loss", "train_kl", "train_elbo", "train_bpd", "train_cos_sim", "train_kl_augmentation", "train_log_pxz",
                     "train_log_pz", "train_log_px", "train_log_scale", "lr", "online_train_acc", "val_loss", "val_bpd", "online_val_acc" })
            Assert.True(rows[1].ContainsKey(name), $"metrics.csv lacks {name}");
        Assert.Equal(6, rows[1]["step"]);
        Assert.True(File.Exists(run.ReconstructionPng(1)));
        Assert.True(File.Exists(run.EpochCheckpoint(0)) && File.Exists(run.EpochCheckpoint(1)));
        Assert.NotEmpty(Directory.GetFiles(run.TensorBoard, "events.out.tfevents.*"));

        var content = TorchFile.Read(run.LastCheckpoint);
        foreach (var key in new[] { "state_dict", "epoch", "global_step", "hyper_parameters", "optimizer_states" })
            Assert.True(content.ContainsKey(key), $"checkpoint lacks {key}");
        var stateDict = (System.Collections.IDictionary)content["state_dict"]!;
        Assert.True(stateDict.Contains("encoder.conv1.weight") && stateDict.Contains("log_scale") && stateDict.Contains("online_finetuner.weight"));
        Assert.Equal(6L, Convert.ToInt64(content["global_step"]));
    }

    [Fact]
    public void DivergingRunStopsNamingTheStepAndKeepsNoNaNCheckpoint()
    {
        var dir = Path.Combine(TempDir.Create(), "nan");
        var tiny = TinyWith(monitors: m => m with { OnlineFt = false });
        var options = tiny with { Optimizer = tiny.Optimizer with { LearningRate = 1e30, WarmupEpochs = 0 } };
        var e = Assert.Throws<NonFiniteLossException>(() => Train(options, dir));
        Assert.Contains("at step", e.Message);
        var last = new RunFolder(dir).LastCheckpoint;
        if (File.Exists(last))
        {
            var state = StateDicts.Select(TrainingCheckpoint.Read(last).StateDict, "");
            Assert.All(state.Values, t => Assert.True(t.isfinite().all().item<bool>()));
        }
    }

    [Fact]
    public void ResumingIntoAnotherArchitectureIsRefusedNamingAKey()
    {
        var dir = Path.Combine(TempDir.Create(), "arch");
        Train(TinyWith(t => t with { MaxSteps = 1 }), dir);
        var checkpoint = TrainingCheckpoint.Read(new RunFolder(dir).LastCheckpoint);
        var wider = Tiny() with { Model = Tiny().Model with { Width = 8 } };
        var e = Assert.Throws<InvalidDataException>(() => new Pretrainer(wider, new RunFolder(dir), new SilentObserver(), checkpoint));
        Assert.Contains("encoder.conv1.weight", e.Message);
    }

    [Fact]
    public void BatchLargerThanTheDataSetIsRefused()
    {
        var e = Assert.Throws<OptionException>(() => new Pretrainer(Tiny() is var tiny ? tiny with { Data = tiny.Data with { BatchSize = 100_000 } } : null!, RunFolder.CreateNew(TempDir.Create(), false), new SilentObserver()));
        Assert.Equal(nameof(DataOptions.BatchSize), e.Option);
        Assert.StartsWith("100000 is larger than", e.Problem);
    }

    private sealed class Observer(Action<StepReport>? onStep) : ITrainingObserver
    {
        public void OnStep(StepReport step) => onStep?.Invoke(step);

        public void OnEpoch(EpochReport epoch) { }

        public void OnMessage(string message) { }
    }
}

using Aavae.Augmentation;
using Aavae.Data;
using Aavae.Objectives;
using Aavae.Optimization;
using Aavae.Runtime;
using Aavae.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Aavae.Checkpoints;
using Aavae.Options;

namespace Aavae.Tests.Training;

/// <summary>
/// The fit loop alone, on a one-parameter stub module (no networks, a few seconds): the callbacks'
/// hooks in Lightning's order, the step and epoch counts, max_steps, Ctrl-C, the NaN guard and the
/// validation means weighted by batch size.
/// </summary>
public sealed class TrainingLoopTests : IDisposable
{
    private readonly DataModule data = DataModule.Load("fashion-mnist", null);

    private static PretrainOptions Options(int maxEpochs = 2, long? maxSteps = null, int? limitVal = 1, int batch = 8) => new()
    {
        Trainer = new() { MaxEpochs = maxEpochs, MaxSteps = maxSteps, LimitTrainBatches = 3, LimitValBatches = limitVal },
        Data = new() { BatchSize = batch },
        Augmentation = new() { Denoising = false },
        Optimizer = new() { LearningRate = 0.1 },
    };

    [Fact]
    public void HooksRunInLightningsOrderOverEveryStepAndEpoch()
    {
        using var module = new StubModule(Options());
        var hooks = new Recorder();
        var result = Loop(module, hooks).Run(new TrainingPosition(0, 0, 0));

        string[] epoch = ["after_backward", "train_batch_end", "after_backward", "train_batch_end", "after_backward", "train_batch_end", "validation_batch_end", "validation_end", "epoch_end"];
        Assert.Equal(["fit_start", .. epoch, .. epoch], hooks.Calls);
        Assert.Equal(new TrainingPosition(2, 0, 6), result.Position);
        Assert.False(result.Interrupted);
        Assert.Equal([0L, 1, 2, 3, 4, 5], module.Steps);
        // Validation in eval mode, training resumed after it; Adam moved the weight towards the loss's minimum at 1.
        Assert.Equal([false, true, false, true], module.Modes);
        Assert.InRange(module.W.item<float>(), 0.3f, 1.0f);
    }

    [Fact]
    public void TrainUntilEndsTheEpochAtTheFirstStepPastItValidatedAndNotInterrupted()
    {
        // A time already past after the first step: the loop stops there, as max_steps 1 would.
        using var module = new StubModule(Options());
        var hooks = new Recorder();
        var loop = Loop(module, hooks);
        loop.TrainUntil = DateTime.UtcNow;
        var result = loop.Run(new TrainingPosition(0, 0, 0));
        Assert.Equal(new TrainingPosition(0, 1, 1), result.Position);
        Assert.False(result.Interrupted);
        Assert.Equal(["fit_start", "after_backward", "train_batch_end", "validation_batch_end", "validation_end", "epoch_end"], hooks.Calls);
        Assert.True(hooks.Ends.Single().Last);
        Assert.Contains("val_images", result.LastEpoch!.Keys);
        Assert.DoesNotContain(result.LastEpoch!.Keys, k => k.Contains("time_up"));
    }

    [Fact]
    public void MaxStepsEndsTheRunInsideAnEpochWithThatEpochsLastHooks()
    {
        using var module = new StubModule(Options(maxSteps: 4));
        var hooks = new Recorder();
        var result = Loop(module, hooks).Run(new TrainingPosition(0, 0, 0));
        Assert.Equal(new TrainingPosition(1, 1, 4), result.Position);
        Assert.Equal(2, hooks.Calls.Count(c => c == "epoch_end"));
        Assert.Equal([false, true], hooks.Ends.Select(e => e.Last));
        Assert.Equal([true, false], hooks.Ends.Select(e => e.Completed));
    }

    [Fact]
    public void CancellingStopsAfterTheStepAndTellsTheCallbacksWhere()
    {
        using var module = new StubModule(Options());
        using var stop = new CancellationTokenSource();
        var hooks = new Recorder { OnStep = step => { if (step == 1) stop.Cancel(); } };
        var result = Loop(module, hooks).Run(new TrainingPosition(0, 0, 0), stop.Token);
        Assert.True(result.Interrupted);
        Assert.Equal(new TrainingPosition(0, 2, 2), result.Position);
        Assert.Equal(["fit_start", "after_backward", "train_batch_end", "after_backward", "train_batch_end", "interrupted"], hooks.Calls);
    }

    [Fact]
    public void ANonFiniteLossStopsTheRunBeforeTheOptimizerSpoilsTheWeights()
    {
        using var module = new StubModule(Options()) { NanAt = 2 };
        var hooks = new Recorder();
        var weightAfterStep1 = 0f;
        hooks.OnStep = step => { if (step == 1) weightAfterStep1 = module.W.item<float>(); };
        var loop = Loop(module, hooks);
        var e = Assert.Throws<NonFiniteLossException>(() => loop.Run(new TrainingPosition(0, 0, 0)));
        Assert.Contains("non-finite train_loss (NaN) at step 2 (epoch 0)", e.Message);
        Assert.Contains("the last good checkpoint is here", e.Message);
        Assert.Equal(weightAfterStep1, module.W.item<float>());
    }

    [Fact]
    public void UnderLossScalingAnOverflowSkipsTheStepAndHalvesTheScale()
    {
        // (w - 1)^2 at w = 0: a gradient of -2, times a scale of 3e38, overflows float32; at half that scale it does not.
        using var module = new StubModule(Options(maxEpochs: 1)) { Scaler = new GradScaler(initScale: 3e38) };
        var (weights, grads) = (new List<float>(), new List<float>());
        var hooks = new Recorder { OnStep = _ => { weights.Add(module.W.item<float>()); grads.Add(module.W.grad!.item<float>()); } };
        var result = Loop(module, hooks).Run(new TrainingPosition(0, 0, 0));
        Assert.Equal(new TrainingPosition(1, 0, 3), result.Position);
        // Step 0 overflowed and was skipped (the weight untouched); step 1's gradient, unscaled, is the loss's own -2 at w = 0.
        Assert.True(float.IsInfinity(grads[0]));
        Assert.Equal(0f, weights[0]);
        Assert.Equal(-2f, grads[1], 1e-5f);
        Assert.Equal(0.1f, weights[1], 1e-6f);
        Assert.Equal((1.5e38, 2), (module.Scaler.Scale, module.Scaler.GrowthTracker));
    }

    [Fact]
    public void UnderLossScalingANonFiniteLossIsSkippedUntilTheScaleSaysTheRunDiverged()
    {
        // A float16 forward pass may overflow too: skipped, as an overflowing gradient is.
        using (var module = new StubModule(Options(maxEpochs: 1)) { Scaler = new GradScaler(initScale: 4), NanAt = 1 })
        {
            Loop(module, new Recorder()).Run(new TrainingPosition(0, 0, 0));
            Assert.Equal((2.0, 1), (module.Scaler.Scale, module.Scaler.GrowthTracker));
        }
        // Below the smallest scale an overflow is not float16's range any more: the NaN guard stops the run.
        using var diverged = new StubModule(Options(maxEpochs: 1)) { Scaler = new GradScaler(initScale: GradScaler.MinScale / 2), NanAt = 0 };
        var e = Assert.Throws<NonFiniteLossException>(() => Loop(diverged, new Recorder()).Run(new TrainingPosition(0, 0, 0)));
        Assert.Contains("non-finite train_loss (NaN) at step 0 (epoch 0) with the loss scale down to", e.Message);
    }

    [Fact]
    public void ValidationMeansAreWeightedByBatchSize()
    {
        // 5,000 validation images in batches of 3,000: a batch of 3,000 and one of 2,000. The stub's
        // metric is the batch's size, so the weighted mean is (3000^2 + 2000^2) / 5000 = 2600 (2500 unweighted).
        using var module = new StubModule(Options(maxEpochs: 1, limitVal: null, batch: 3000));
        var hooks = new Recorder();
        Loop(module, hooks).Run(new TrainingPosition(0, 0, 0));
        Assert.Equal(5000, data.PretrainVal.Count);
        Assert.Equal(2600, hooks.Ends.Single().Row["val_images"], 6);
    }

    private TrainingLoop Loop(StubModule module, Recorder hooks) =>
        new(module, LoopSettings.Of(module.Options), data, new Views(data.Info, CPU), [hooks]) { LastGoodCheckpoint = () => "the last good checkpoint is here" };

    public void Dispose() => data.Dispose();

    /// <summary>One weight w and the loss (w - 1)^2: a step Adam can take, and nothing else to compute.</summary>
    private sealed class StubModule : ITrainingModule, IDisposable
    {
        private static readonly Scalar NaN = float.NaN.ToScalar();

        public StubModule(PretrainOptions options)
        {
            Options = options;
            Optimizer = new AdamOptimizer([new ParameterGroup([W], 0, false)], options.Optimizer.LearningRate);
        }

        public Parameter W { get; } = new(zeros(1));
        public List<long> Steps { get; } = [];
        public List<bool> Modes { get; } = [];
        public long? NanAt { get; init; }
        public GradScaler? Scaler { get; init; }
        public PretrainOptions Options { get; }
        public Device Device => CPU;
        public int BatchesPerEpoch => Options.Trainer.LimitTrainBatches!.Value;
        public IStepOptimizer Optimizer { get; }
        public IReadOnlyList<Parameter> Trainable => [W];
        public nn.Module<Tensor, Tensor> Encoder { get; } = nn.Flatten();

        public (ObjectiveOutput Output, double LearningRate) TrainingStep(ViewBatch batch, long globalStep)
        {
            Steps.Add(globalStep);
            var loss = W.sub(Scalars.One).square().sum();
            if (globalStep == NanAt) loss = loss.mul(NaN);
            return (new ObjectiveOutput(loss, new Dictionary<string, Tensor> { ["loss"] = loss }), Options.Optimizer.LearningRate);
        }

        public ObjectiveOutput ValidationStep(ViewBatch batch)
        {
            var images = tensor((float)batch.X.shape[0]);
            return new ObjectiveOutput(images, new Dictionary<string, Tensor> { ["images"] = images });
        }

        public void SetTraining(bool training) => Modes.Add(training);

        public void Dispose()
        {
            Optimizer.Dispose();
            Encoder.Dispose();
            W.Dispose();
        }
    }

    private sealed class Recorder : ITrainingCallback
    {
        public List<string> Calls { get; } = [];
        public List<EpochEnd> Ends { get; } = [];
        public Action<long>? OnStep { get; set; }

        public void OnFitStart(TrainingPosition start) => Calls.Add("fit_start");
        public void OnAfterBackward(AfterBackward step) => Calls.Add("after_backward");
        public void OnTrainBatchEnd(TrainBatchEnd step)
        {
            Calls.Add("train_batch_end");
            OnStep?.Invoke(step.Step);
        }
        public void OnValidationBatchEnd(ValidationBatchEnd batch) => Calls.Add("validation_batch_end");
        public void OnValidationEnd(EpochEnd epoch) => Calls.Add("validation_end");
        public void OnEpochEnd(EpochEnd epoch)
        {
            Calls.Add("epoch_end");
            Ends.Add(epoch);
        }
        public void OnInterrupted(TrainingPosition position) => Calls.Add("interrupted");
    }
}

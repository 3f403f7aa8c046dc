using System.Diagnostics;
using Aavae.Augmentation;
using Aavae.Configuration;
using Aavae.Data;
using Aavae.Training.Strategies;
using Aavae.Evaluation;
using Aavae.Optimization;
using Aavae.Runtime;
using static TorchSharp.torch;
using Aavae.Checkpoints;
using Aavae.Options;

namespace Aavae.Training;

/// <summary>How a loop ended: where it stands, whether Ctrl-C stopped it, and its last epoch's metrics.</summary>
public sealed record LoopResult(TrainingPosition Position, bool Interrupted, IReadOnlyDictionary<string, double>? LastEpoch);

/// <summary>What the loop needs to know of a run: how long and on what (the trainer's settings), in what batches, from which seed, and whether the encoder is shown the augmented view.</summary>
public sealed record LoopSettings(TrainerOptions Trainer, int BatchSize, int Seed, bool Denoising)
{
    public static LoopSettings Of(PretrainOptions options) => new(options.Trainer, options.Data.BatchSize, options.Seed, options.Augmentation.Denoising);
}

/// <summary>A loss, metric or gradient went NaN or infinite: the run stops, keeping its last good checkpoint.</summary>
public sealed class NonFiniteLossException(string message) : Exception(message);

/// <summary>
/// The pre-training loop (Lightning's fit loop): epochs of shuffled batches from a position,
/// one optimizer step each, a validation pass per epoch, and the callbacks' hooks around them. It
/// owns the position, cancellation and the NaN guard; everything else (checkpoints, logs,
/// monitors, pictures, progress) is a callback. Each step waits for the device once, to read the
/// loss and gradient norm the guard needs; other metrics stay tensors until a callback shows them.
/// Under data parallelism (a <paramref name="strategy"/> of several processes) each process trains
/// on its <see cref="Shard"/> of every global batch and validates on its shard of the validation
/// batches; the strategy averages the gradients and adds up the validation sums.
/// </summary>
public sealed class TrainingLoop(ITrainingModule module, LoopSettings settings, DataModule data, Views views, IReadOnlyList<ITrainingCallback> callbacks, IStrategy? strategy = null)
{
    private readonly IStrategy strategy = strategy ?? new SingleDevice();
    private Shard Shard => strategy.Shard;
    private readonly StepMemory memory = new();
    private LoopSettings settings = settings;
    private const string TimeUpMetric = "time_up";
    private TrainingPosition position = new(0, 0, 0);

    /// <summary>Shown in the NaN guard's message: where the last good checkpoint is, if any.</summary>
    public Func<string> LastGoodCheckpoint { get; init; } = () => "no checkpoint was written";

    /// <summary>Told when the loop changes libtorch's thread count for other processes' sake (<see cref="CoreShare"/>).</summary>
    public Action<string>? Report { get; init; }

    public int BatchesPerEpoch => module.BatchesPerEpoch;

    /// <summary>
    /// When training must end (UTC): the epoch under way ends at the first step past it, validated
    /// and checkpointed. A time budget sets it, as a guard for when its estimate of the run's speed
    /// was wrong (another program took the cores).
    /// </summary>
    public DateTime? TrainUntil { get; set; }

    /// <summary>The run's length changed while it trains (a time budget fixed its steps): the loop ends where <paramref name="trainer"/> says.</summary>
    public void Lengthen(TrainerOptions trainer) => settings = settings with { Trainer = trainer };

    public TrainingPosition Position => position;

    public LoopResult Run(TrainingPosition start, CancellationToken stop = default)
    {
        position = start;
        using var share = CoreShare.ForLoop(settings.Trainer.Threads, Report);
        strategy.Setup();
        foreach (var c in callbacks) c.OnFitStart(start);
        IReadOnlyDictionary<string, double>? lastEpoch = null;
        var device = module.Device;
        for (int epoch = position.Epoch; epoch < settings.Trainer.MaxEpochs; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            using var train = new MetricSums();
            bool stopped = false;
            var loader = new BatchLoader<ViewBatch>(data.PretrainTrain,
                new LoaderOptions(settings.BatchSize, Shuffle: true, DropLast: true, settings.Seed, epoch, settings.Trainer.LimitTrainBatches, StartBatch: position.Batch,
                    Prefetch: LoaderOptions.PrefetchOn(device)),
                ViewsOf(data.PretrainTrain));
            int batch = position.Batch;
            foreach (var views in loader)
            {
                bool stopAgreed, timeUp;
                using (views)
                {
                    (stopAgreed, timeUp) = TrainStep(views, epoch, ++batch, train, stop.IsCancellationRequested);
                    memory.AfterStep();
                    share.AfterStep();
                }
                // One process reads its own token; several stop together at the step they agreed on, or one would wait for the others forever.
                if (strategy.Group.Size == 1 ? stop.IsCancellationRequested : stopAgreed)
                {
                    foreach (var c in callbacks) c.OnInterrupted(position);
                    strategy.Teardown();
                    return new LoopResult(position, Interrupted: true, lastEpoch);
                }
                if (settings.Trainer.MaxSteps is long maxSteps && position.GlobalStep >= maxSteps) { stopped = true; break; }
                if (timeUp)
                {
                    Report?.Invoke($"training time is up at step {position.GlobalStep} (the run is slower than measured): this epoch ends here, validated and checkpointed");
                    stopped = true;
                    break;
                }
            }

            var row = new Dictionary<string, double> { ["epoch"] = epoch, ["step"] = position.GlobalStep };
            foreach (var (k, v) in train.Means())
            {
                // The loss is guarded every step; the other metrics are read here, once an epoch.
                if (!double.IsFinite(v)) Fail($"non-finite {TrainName(k)} ({v}) in epoch {epoch}, step {position.GlobalStep}");
                row[TrainName(k)] = v;
            }
            bool completed = batch >= BatchesPerEpoch;
            var end = new EpochEnd(epoch, row, last: stopped || epoch == settings.Trainer.MaxEpochs - 1,
                () => FeatureExtractor.Encode(module.Encoder, data.Val, views, settings.BatchSize, settings.Trainer.LimitValBatches));
            try
            {
                Validate(end);
                NativeMemory.Trim();
                row["epoch_seconds"] = epochClock.Elapsed.TotalSeconds;
                end.Next = completed ? new TrainingPosition(epoch + 1, 0, position.GlobalStep) : position;
                end.Completed = completed;
                lastEpoch = row;
                position = end.Next;
                foreach (var c in callbacks) c.OnEpochEnd(end);
            }
            finally
            {
                end.ReleaseFeatures();
            }
            if (stopped) break;
        }
        strategy.Teardown();
        return new LoopResult(position, Interrupted: false, lastEpoch);
    }

    /// <returns>Whether the processes agreed to stop after this step, and whether training time is up on any of them.</returns>
    private (bool Stop, bool TimeUp) TrainStep(ViewBatch views, int epoch, int batch, MetricSums train, bool stopRequested)
    {
        var stepClock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        long step = position.GlobalStep;
        var (output, lr) = module.TrainingStep(views, step);
        module.Optimizer.ZeroGrad();
        var scaler = module.Scaler;
        (scaler is null ? output.Loss : scaler.ScaleLoss(output.Loss)).backward();
        var afterBackward = new AfterBackward(module.Trainable, new Dictionary<string, Tensor>(output.Metrics), stopRequested);
        // Whether training time is up travels with the step's metrics, so every process of a data-parallel run stops at the same step.
        if (TrainUntil is { } until) afterBackward.Metrics[TimeUpMetric] = tensor(DateTime.UtcNow >= until ? 1f : 0f, device: module.Device);
        afterBackward.StopRequested = strategy.ReduceStep(afterBackward);
        afterBackward.Metrics.Remove(TimeUpMetric, out var timeUpShare);
        foreach (var c in callbacks) c.OnAfterBackward(afterBackward);
        var stepMetrics = afterBackward.Metrics;
        var stepLoss = stepMetrics.GetValueOrDefault("loss") ?? output.Loss;
        // Under 16-mixed the gradients carry the loss scale (which kept the float16 activations' gradients from
        // flushing to zero); averaged across processes first, which commutes with the division, they are unscaled before anything reads them.
        scaler?.Unscale(module.Trainable);

        // The step's one wait for the device: the loss and the gradient norm, before the optimizer can spoil the weights (and whether training time is up).
        var gradNorm = stack(module.Trainable.Where(p => p.grad is not null).Select(p => p.grad!.norm())).norm();
        var wanted = new List<Tensor> { stepLoss.detach().to_type(ScalarType.Float32).reshape(1), gradNorm.reshape(1) };
        if (timeUpShare is not null) wanted.Add(timeUpShare.reshape(1));
        var read = stack(wanted).data<float>().ToArray();
        bool timeUp = read.Length > 2 && read[2] > 0;
        double loss = read[0];
        // Under loss scaling a float16 overflow is expected now and then, in the forward pass or the
        // gradients: the step is skipped and the scale backs off, as torch's GradScaler does; only a
        // scale driven below GradScaler.MinScale says the run itself diverged.
        bool finite = float.IsFinite(read[1]) && double.IsFinite(loss);
        if (!finite && (scaler is null || scaler.Scale < GradScaler.MinScale))
            Fail((double.IsFinite(loss) ? $"non-finite gradient norm ({read[1]})" : $"non-finite train_loss ({loss})") + $" at step {step} (epoch {epoch})"
                + (scaler is null ? "" : $" with the loss scale down to {scaler.Scale:G3}"));
        if (finite) module.Optimizer.Step();
        scaler?.Update(finite);

        position = new TrainingPosition(epoch, batch, step + 1);
        var metrics = new Dictionary<string, Tensor>(stepMetrics);
        var end = new TrainBatchEnd(epoch, batch, step, position, views, metrics, lr, loss, stepClock.Elapsed);
        foreach (var c in callbacks) c.OnTrainBatchEnd(end);
        // A step the loss scaler skipped did not train: its overflowed metrics stay out of the epoch's means.
        if (finite)
        {
            train.Add(stepMetrics, 1);
            train.Add("lr", lr, 1);
            train.Add(metrics.Where(kv => !stepMetrics.ContainsKey(kv.Key)).ToDictionary(), 1);
        }
        return (afterBackward.StopRequested, timeUp);
    }

    /// <summary>Validation loss, val_samples posterior samples per image, then the callbacks' epoch metrics; skipped with limit_val_batches 0.</summary>
    private void Validate(EpochEnd end)
    {
        if (settings.Trainer.LimitValBatches == 0) return;
        module.SetTraining(false);
        try
        {
            using var sums = new MetricSums();
            var loader = new BatchLoader<ViewBatch>(data.PretrainVal,
                new LoaderOptions(settings.BatchSize, Shuffle: false, DropLast: false, SeedStreams.Validation(settings.Seed), end.Epoch, settings.Trainer.LimitValBatches,
                    Prefetch: LoaderOptions.PrefetchOn(module.Device)),
                ViewsOf(data.PretrainVal));
            int index = 0;
            foreach (var batch in loader)
                using (batch)
                using (var scope = NewDisposeScope())
                using (no_grad())
                {
                    // A last batch smaller than the number of processes leaves some without images.
                    if (batch.X.shape[0] == 0) { index++; continue; }
                    var output = module.ValidationStep(batch);
                    sums.Add(output.Metrics, batch.X.shape[0]);
                    var batchEnd = new ValidationBatchEnd(end.Epoch, index++, batch);
                    foreach (var c in callbacks) c.OnValidationBatchEnd(batchEnd);
                }
            strategy.ReduceValidation(sums);
            foreach (var (k, v) in sums.Means()) end.Row["val_" + k] = v;
            foreach (var c in callbacks) c.OnValidationEnd(end);
        }
        finally
        {
            module.SetTraining(true);
        }
    }

    /// <summary>A loader's batch factory: (x, original) views of <paramref name="source"/>'s images.</summary>
    private Func<long[], Random, ViewBatch> ViewsOf(IImageSource source) => (indices, rng) =>
    {
        // The batch outlives this scope (the loader's thread has no outer one), its intermediates do not.
        using var scope = NewDisposeScope();
        if (Shard.CountIn(indices.Length) == 0) return new ViewBatch(empty(0).DetachFromDisposeScope(), empty(0).DetachFromDisposeScope(), empty(0, ScalarType.Int64).DetachFromDisposeScope());
        var (x, original, labels) = views.Pretraining(source, indices, settings.Denoising, rng, Shard);
        return new ViewBatch(x.DetachFromDisposeScope(), original.DetachFromDisposeScope(), labels.DetachFromDisposeScope());
    };

    /// <summary>Objective metrics get the reference's train_ prefix; the learning rate and the probe's own names stand as they are.</summary>
    public static string TrainName(string metric) =>
        metric == "lr" || metric.StartsWith("online_", StringComparison.Ordinal) ? metric : "train_" + metric;

    private void Fail(string what) =>
        throw new NonFiniteLossException($"{what}: run stopped; {LastGoodCheckpoint()}. Try a lower learning_rate or a longer warmup_epochs.");
}

using System.Diagnostics;
using Aavae.Augmentation;
using Aavae.Checkpoints;
using Aavae.Data;
using Aavae.Evaluation;
using Aavae.Kernels;
using Aavae.IO;
using Aavae.Models;
using Aavae.Objectives;
using Aavae.Runtime;
using Aavae.Visualization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Aavae.Training;

/// <summary>How a run ended: where it stands, whether Ctrl-C stopped it, and its last epoch's metrics.</summary>
public sealed record PretrainResult(RunFolder Run, TrainingPosition Position, bool Interrupted, IReadOnlyDictionary<string, double>? LastEpoch);

/// <summary>A loss, metric or gradient went NaN or infinite: the run stops, keeping its last good checkpoint.</summary>
public sealed class NonFiniteLossException(string message) : Exception(message);

/// <summary>
/// Pre-trains an AAVAE (or its VAE / AE baselines): per-step warm-up/decay schedule, one
/// validation pass per epoch with <c>val_samples</c> posterior samples, optional online probe and
/// k-NN monitor, metrics to CSV and TensorBoard, reconstruction grids, and checkpoints that
/// resume bit-exactly on the CPU.
/// </summary>
public sealed class Pretrainer : IDisposable
{
    /// <summary>TensorBoard gets the training metrics every this many steps (Lightning logs every 50).</summary>
    private const int LogEverySteps = 10;
    private const int GridImages = 8;

    private readonly PretrainOptions options;
    private readonly RunFolder run;
    private readonly ITrainingObserver observer;
    private readonly DataModule data;
    private readonly Views views;
    private readonly AavaeModel model;
    private readonly IStepOptimizer optimizer;
    private readonly OnlineProbe? probe;
    private readonly LearningRateSchedule schedule;
    private readonly MetricsLog log;
    private readonly IReadOnlyList<Parameter> trainable;
    private readonly StepMemory memory = new();
    private TrainingPosition position;

    public Pretrainer(PretrainOptions options, RunFolder run, ITrainingObserver observer, TrainingCheckpoint? resume = null)
    {
        options.Validate();
        this.options = options;
        this.run = run;
        this.observer = observer;
        Device = DeviceChoice.Resolve(options.Device);
        data = DataModule.Load(options.Dataset, options.DataDir);
        try
        {
            CheckFits(options, data);
            views = new Views(data.Info, Device);
            // The seed fixes initialisation; the loaders derive their own seeds from it per epoch and batch.
            Determinism.Seed(options.Seed);
            model = new AavaeModel(options.Model, options.Model.Kind == ModelKind.Ae ? new AeObjective() : new VaeObjective(options.KlCoeff));
            model.to(Device);
            KernelCheck = KernelGuard.Shared.Protect(model, Device);
            if (KernelCheck.Unfixable.Any()) throw new KernelCheckException(KernelCheck.Summary!);
            if (KernelCheck.Summary is { } found) observer.OnMessage(found);
            var groups = ParameterGroups.Create(model, options.WeightDecay, options.ExcludeBnBias);
            trainable = groups.SelectMany(g => g.Parameters).ToList();
            optimizer = options.Optimizer == "lamb"
                ? new Lamb(groups, options.LearningRate)
                : new AdamOptimizer(groups, options.LearningRate);
            if (options.OnlineFt)
            {
                if (data.Train.NumClasses < 1) throw new ArgumentException($"--online-ft needs labels; {data.Train.Name} has none");
                probe = new OnlineProbe(options.Model.FeatureDim, data.Info.NumClasses, Device);
            }
            BatchesPerEpoch = Math.Min(data.PretrainTrain.Count / options.BatchSize, options.LimitTrainBatches ?? int.MaxValue);
            schedule = new LearningRateSchedule((long)BatchesPerEpoch * options.WarmupEpochs, (long)BatchesPerEpoch * options.MaxEpochs, options.Decay);
            position = new TrainingPosition(0, 0, 0);
            if (options.InitFrom is { } init && resume is null) InitialiseFrom(init, data.Info);
            if (resume is not null)
            {
                resume.Restore(model, optimizer, probe, $"--resume {resume.Path}");
                position = resume.Position;
                if (resume.Format == LightningRun.Format)
                    observer.OnMessage($"continuing the reference's run from {resume.Path} at epoch {position.Epoch}, step {position.GlobalStep}"
                        + (position.GlobalStep != (long)position.Epoch * BatchesPerEpoch
                            ? $" (here an epoch is {BatchesPerEpoch} steps, so the schedule stands where {position.GlobalStep / Math.Max(1, BatchesPerEpoch)} epochs would put it)" : ""));
            }
            run.CreateFolders();
            log = new MetricsLog(run, append: resume is not null);
            var config = System.Text.Json.Nodes.JsonNode.Parse(options.ToJson())!.AsObject();
            config["kernel_check"] = System.Text.Json.JsonSerializer.SerializeToNode(KernelCheck.ToJson());
            var json = System.Text.Encoding.UTF8.GetBytes(config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            AtomicFile.Write(run.Config, s => s.Write(json));
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    public Device Device { get; }
    public AavaeModel Model => model;
    /// <summary>What the convolution check found on this CPU and which layers it rerouted.</summary>
    public KernelReport KernelCheck { get; }
    public DataModule Data => data;
    public int BatchesPerEpoch { get; }
    public TrainingPosition Position => position;

    /// <summary>
    /// Called with the trainable parameters after backward and before the optimizer: the one
    /// place a step's gradients exist, where data-parallel training would average them across processes.
    /// </summary>
    public Action<IReadOnlyList<Parameter>>? GradientHook { get; set; }

    /// <summary>Copies encoder, projection, decoder and log_scale from a checkpoint; the optimizer starts afresh.</summary>
    private void InitialiseFrom(string path, DatasetInfo info)
    {
        using var weights = PretrainedWeights.Read(path, info);
        var report = weights.LoadInto(model, $"--init-from {path}");
        observer.OnMessage($"initialised from {path} ({weights.Format}){(report.Unexpected.Count > 0 ? $"; ignored keys: {string.Join(", ", report.Unexpected)}" : "")}");
    }

    private static void CheckFits(PretrainOptions options, DataModule data)
    {
        if (options.Model.InputHeight != data.Info.InputHeight)
            throw new ArgumentException($"--input-size {options.Model.InputHeight} does not match {data.Info.Name}'s {data.Info.InputHeight}x{data.Info.InputHeight} images");
        if (options.BatchSize > data.PretrainTrain.Count)
            throw new ArgumentException($"--batch-size {options.BatchSize} is larger than {data.PretrainTrain.Name} ({data.PretrainTrain.Count} images)");
    }

    public PretrainResult Run(CancellationToken stop = default)
    {
        IReadOnlyDictionary<string, double>? lastEpoch = null;
        var clock = Stopwatch.StartNew();
        long stepsAtStart = position.GlobalStep;
        for (int epoch = position.Epoch; epoch < options.MaxEpochs; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            var train = new MetricSums();
            bool stopped = false, interrupted = false;
            var loader = new BatchLoader<ViewBatch>(data.PretrainTrain,
                new LoaderOptions(options.BatchSize, Shuffle: true, DropLast: true, options.Seed, epoch, options.LimitTrainBatches, StartBatch: position.Batch,
                    Prefetch: LoaderOptions.PrefetchOn(Device)),
                ViewsOf(data.PretrainTrain));
            int batch = position.Batch;
            foreach (var step in loader)
            {
                using (step)
                {
                    var stepClock = Stopwatch.StartNew();
                    var metrics = TrainStep(step, epoch);
                    train.Add(metrics, 1);
                    batch++;
                    position = new TrainingPosition(epoch, batch, position.GlobalStep + 1);
                    memory.AfterStep();
                    if (position.GlobalStep % LogEverySteps == 0)
                        log.Scalars(metrics.ToDictionary(kv => TrainName(kv.Key), kv => kv.Value), position.GlobalStep);
                    double perStep = clock.Elapsed.TotalSeconds / Math.Max(1, position.GlobalStep - stepsAtStart);
                    long remaining = (long)(options.MaxEpochs - epoch) * BatchesPerEpoch - batch;
                    if (options.MaxSteps is long max) remaining = Math.Min(remaining, max - position.GlobalStep);
                    observer.OnStep(new StepReport(epoch, options.MaxEpochs, batch, BatchesPerEpoch, position.GlobalStep, metrics["loss"],
                        step.X.shape[0] / stepClock.Elapsed.TotalSeconds, clock.Elapsed, TimeSpan.FromSeconds(perStep * remaining)));
                }
                if (stop.IsCancellationRequested) { interrupted = true; break; }
                if (options.MaxSteps is long maxSteps && position.GlobalStep >= maxSteps) { stopped = true; break; }
            }

            if (interrupted)
            {
                SaveCheckpoint(position, numbered: false);
                observer.OnMessage($"interrupted at epoch {epoch}, step {position.GlobalStep}: wrote {run.LastCheckpoint}");
                return new PretrainResult(run, position, Interrupted: true, lastEpoch);
            }

            var row = new Dictionary<string, double> { ["epoch"] = epoch, ["step"] = position.GlobalStep };
            foreach (var (k, v) in train.Means()) row[TrainName(k)] = v;
            bool last = stopped || epoch == options.MaxEpochs - 1;
            foreach (var (k, v) in Validate(epoch, last)) row[k] = v;
            NativeMemory.Trim();
            row["epoch_seconds"] = epochClock.Elapsed.TotalSeconds;
            log.EpochRow(row);
            log.Scalars(row.Where(kv => kv.Key.StartsWith("val_", StringComparison.Ordinal) || kv.Key.StartsWith("online_", StringComparison.Ordinal) || kv.Key == "knn_acc")
                .ToDictionary(), position.GlobalStep);
            lastEpoch = row;
            observer.OnEpoch(new EpochReport(epoch, position.GlobalStep, row, clock.Elapsed));

            bool epochDone = batch >= BatchesPerEpoch;
            position = epochDone ? new TrainingPosition(epoch + 1, 0, position.GlobalStep) : position;
            SaveCheckpoint(position, numbered: epochDone && (epoch + 1) % options.CheckpointEvery == 0);
            if (stopped) break;
        }
        return new PretrainResult(run, position, Interrupted: false, lastEpoch);
    }

    /// <summary>Objective metrics get the reference's train_ prefix; the learning rate and the probe's own names stand as they are.</summary>
    private static string TrainName(string metric) =>
        metric == "lr" || metric.StartsWith("online_", StringComparison.Ordinal) ? metric : "train_" + metric;

    /// <summary>A loader's batch factory: (x, original) views of <paramref name="source"/>'s images.</summary>
    private Func<long[], Random, ViewBatch> ViewsOf(IImageSource source) => (indices, rng) =>
    {
        // The batch outlives this scope (the loader's thread has no outer one), its intermediates do not.
        using var scope = NewDisposeScope();
        var (x, original, labels) = views.Pretraining(source, indices, options.Denoising, rng);
        return new ViewBatch(x.DetachFromDisposeScope(), original.DetachFromDisposeScope(), labels.DetachFromDisposeScope());
    };

    private Dictionary<string, double> TrainStep(ViewBatch batch, int epoch)
    {
        using var scope = NewDisposeScope();
        model.train();
        double lr = options.LearningRate * schedule.Factor(position.GlobalStep);
        optimizer.SetLearningRate(lr);
        var step = model.forward(batch.X, batch.Original, samples: 1);
        var stepMetrics = step.Read();
        CheckFinite(stepMetrics, "train_", epoch);

        optimizer.ZeroGrad();
        step.Loss.backward();
        GradientHook?.Invoke(trainable);
        var gradNorm = stack(trainable.Where(p => p.grad is not null).Select(p => p.grad!.norm())).norm().item<float>();
        if (!float.IsFinite(gradNorm))
            Fail($"non-finite gradient norm ({gradNorm}) at step {position.GlobalStep} (epoch {epoch})");
        optimizer.Step();

        var metrics = new Dictionary<string, double>(stepMetrics) { ["lr"] = lr };
        if (probe is not null)
        {
            var (loss, acc) = ProbeStep();
            metrics["online_train_loss"] = loss;
            metrics["online_train_acc"] = acc;
        }
        return metrics;
    }

    /// <summary>One online-probe update on a labelled batch of the linear-evaluation training view.</summary>
    private (double Loss, double Accuracy) ProbeStep()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(BatchLoader<ViewBatch>.DerivedSeed(options.Seed, (int)position.GlobalStep, -2));
        int n = Math.Min(options.BatchSize, data.Train.Count);
        var indices = Enumerable.Range(0, n).Select(_ => (long)rng.Next(data.Train.Count)).ToArray();
        var (x, labels) = views.LinearEvalTrain(data.Train, indices, rng);
        Tensor features;
        // As the reference's callback: the encoder stays in training mode, without gradient.
        using (no_grad()) features = model.Encoder.call(x);
        return probe!.TrainStep(features, labels.to(Device));
    }

    private void CheckFinite(IReadOnlyDictionary<string, double> metrics, string prefix, int epoch)
    {
        foreach (var (name, value) in metrics)
            if (!double.IsFinite(value))
                Fail($"non-finite {prefix}{name} ({value}) at step {position.GlobalStep} (epoch {epoch})");
    }

    private void Fail(string what)
    {
        var kept = File.Exists(run.LastCheckpoint) ? $"the last good checkpoint is {run.LastCheckpoint}" : "no checkpoint was written yet";
        throw new NonFiniteLossException($"{what}: run stopped; {kept}. Try a lower --learning-rate or a longer --warmup-epochs.");
    }

    /// <summary>Validation metrics of the reference's VAE.step (src/vae.py), the online probe's and the k-NN monitor's, and a reconstruction grid.</summary>
    private Dictionary<string, double> Validate(int epoch, bool last)
    {
        var row = new Dictionary<string, double>();
        if (options.LimitValBatches == 0) return row;
        model.eval();
        try
        {
            var sums = new MetricSums();
            var loader = new BatchLoader<ViewBatch>(data.PretrainVal,
                new LoaderOptions(options.BatchSize, Shuffle: false, DropLast: false, options.Seed ^ 0x5EED, epoch, options.LimitValBatches,
                    Prefetch: LoaderOptions.PrefetchOn(Device)),
                ViewsOf(data.PretrainVal));
            bool first = true;
            foreach (var batch in loader)
                using (batch)
                using (var scope = NewDisposeScope())
                using (no_grad())
                {
                    var step = model.forward(batch.X, batch.Original, options.ValSamples);
                    sums.Add(step.Read(), batch.X.shape[0]);
                    if (first) WriteGrid(epoch, batch);
                    first = false;
                }
            foreach (var (k, v) in sums.Means()) row["val_" + k] = v;

            bool knn = options.KnnEvery > 0 && ((epoch + 1) % options.KnnEvery == 0 || last);
            if (probe is null && !knn) return row;
            using var valFeatures = FeatureExtractor.Encode(model.Encoder, data.Val, views, options.BatchSize, options.LimitValBatches);
            if (probe is not null)
            {
                using var scope = NewDisposeScope();
                var (lossSum, correct) = probe.Evaluate(valFeatures.Features.to(Device), valFeatures.Labels.to(Device));
                row["online_val_loss"] = lossSum / valFeatures.Count;
                row["online_val_acc"] = (double)correct / valFeatures.Count;
            }
            if (knn)
            {
                using var bank = FeatureExtractor.Encode(model.Encoder, data.Train, views, options.BatchSize, options.LimitTrainBatches);
                row["knn_acc"] = Knn.Accuracy(bank, valFeatures, data.Info.NumClasses, options.KnnK, options.KnnTemperature);
            }
            return row;
        }
        finally
        {
            model.train();
        }
    }

    /// <summary>Originals, the encoder's inputs, and reconstructions of the first validation images.</summary>
    private void WriteGrid(int epoch, ViewBatch batch)
    {
        int n = (int)Math.Min(GridImages, batch.X.shape[0]);
        var x = batch.X[..n];
        var rows = new[] { batch.Original[..n], x, model.Reconstruct(x) };
        ImageGrid.WritePng(run.ReconstructionPng(epoch), rows, data.Info.Normalization);
    }

    private void SaveCheckpoint(TrainingPosition at, bool numbered)
    {
        TrainingCheckpoint.Save(run.LastCheckpoint, options, at, model, optimizer, probe);
        if (numbered)
        {
            var path = run.EpochCheckpoint(at.Epoch - 1);
            AtomicFile.Write(path, s => { using var src = File.OpenRead(run.LastCheckpoint); src.CopyTo(s); });
            observer.OnMessage($"wrote {path}");
        }
    }

    public void Dispose()
    {
        probe?.Dispose();
        optimizer.Dispose();
        model.Dispose();
        data.Dispose();
    }

    /// <summary>Running sums of metrics, weighted by batch size, for epoch means.</summary>
    private sealed class MetricSums
    {
        private readonly Dictionary<string, double> sums = [];
        private double weight;

        public void Add(IReadOnlyDictionary<string, double> metrics, double w)
        {
            foreach (var (k, v) in metrics) sums[k] = sums.GetValueOrDefault(k) + v * w;
            weight += w;
        }

        public IEnumerable<KeyValuePair<string, double>> Means() =>
            sums.Select(kv => KeyValuePair.Create(kv.Key, kv.Value / Math.Max(weight, 1e-12)));
    }
}

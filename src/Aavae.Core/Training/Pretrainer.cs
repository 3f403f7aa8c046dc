using Aavae.Evaluation;
using Aavae.Progress;
using Aavae.Configuration;
using Aavae.Augmentation;
using Aavae.Checkpoints;
using Aavae.Data;
using Aavae.Distributed;
using Aavae.Kernels;
using Aavae.Models;
using Aavae.Runtime;
using Aavae.Training.Callbacks;
using Aavae.Training.Strategies;
using static TorchSharp.torch;
using Aavae.Runs;
using Aavae.Options;
using Aavae.Reports;
using Aavae.Visualization;

namespace Aavae.Training;

/// <summary>How a run ended: where it stands, whether Ctrl-C stopped it, and its last epoch's metrics.</summary>
public sealed record PretrainResult(RunFolder Run, TrainingPosition Position, bool Interrupted, IReadOnlyDictionary<string, double>? LastEpoch);

/// <summary>
/// Pre-trains an AAVAE (or its VAE / AE baselines) into a run folder: loads the data, builds the
/// <see cref="PretrainModule"/>, checks the convolutions, restores a checkpoint or initial weights,
/// and runs the <see cref="TrainingLoop"/> with the standard callbacks (configuration file, metrics
/// log, progress, online probe, k-NN monitor, reconstruction grids, checkpoints). The constructor
/// only reads; the run's files are written once <see cref="Run"/> starts. Given a process group of
/// several processes it trains data-parallel: every process runs a Pretrainer over the same run
/// folder, <c>BatchSize</c> is the global batch, and rank 0 alone writes files and runs the
/// epoch-end monitors (k-NN, probe score, pictures) while the others wait for the next step.
/// </summary>
public sealed class Pretrainer : IDisposable
{
    private PretrainOptions options;
    private readonly RunFolder run;
    private readonly DataModule data;
    private readonly PretrainModule module;
    private readonly OnlineProbe? probe;
    private readonly TrainingLoop loop;
    private readonly DataParallel? parallel;
    private readonly RunLock? runLock;
    private readonly PictureFolderData? folder;
    private readonly TrainingPosition start = new(0, 0, 0);
    private readonly Views views;
    private readonly ITrainingObserver observer;

    /// <param name="setupStop">Ends a picture folder's first decoding pass (Ctrl-C before training starts): the decoded pictures are kept, and an <see cref="OperationCanceledException"/> says the run did not start.</param>
    /// <param name="evaluation">The linear evaluation that will follow training (<see cref="LinearEvaluation"/>): a time budget sets time aside for it.</param>
    /// <param name="jobStart">When the job began (UTC), which a time budget counts from; default: this process's start.</param>
    public Pretrainer(PretrainOptions options, RunFolder run, ITrainingObserver observer, TrainingCheckpoint? resume = null,
        IEnumerable<ITrainingCallback>? extraCallbacks = null, IProcessGroup? group = null, CancellationToken setupStop = default,
        LinearEvalOptions? evaluation = null, DateTime? jobStart = null)
    {
        options.Validate();
        group ??= new SingleProcess();
        if (options.Data.BatchSize % group.Size != 0)
            throw new OptionException(nameof(DataOptions.BatchSize), $"{options.Data.BatchSize} (the global batch) must be a multiple of the {group.Size} processes");
        Device = options.Trainer.Device.ForProcess(group.LocalRank, group.LocalSize).Resolve();
        // The run records, and resumes with, the precision it computes in, not "auto"; every process
        // computes in one, so "auto" takes bfloat16 only where it outruns float32 on every process's CPU
        // (PretrainSetup has settled it already for the program; a library caller may pass "auto").
        if (options.Trainer.Precision == Precision.Auto)
            options = options with { Trainer = options.Trainer with { Precision = Precision.Auto.On(Device.type, group.AllComputeBf16Faster()) } };
        CheckPrecision(options, Device);
        this.options = options;
        this.run = run;
        this.observer = observer;
        // The folder is claimed (and found writable) before the data loads; the other processes of a data-parallel run write nothing.
        bool created = !Directory.Exists(run.Path);
        runLock = group.Rank == 0 ? RunLock.Acquire(run.Path) : null;
        try
        {
            if (options.Data.Dataset.IsFolder)
            {
                folder = PictureFolderData.Load(options.Data, options.Model.InputHeight, options.Model.Stem, options.Seed, observer.OnMessage, stop: setupStop,
                    progress: (done, total) => observer.OnProgress("decoding pictures", done, total));
                data = folder.Data;
                // The folder's own statistics, measured now, are the run's from here on: in config.json, its checkpoints and every later command.
                this.options = options = options with { Data = options.Data with { Normalization = data.Info.Normalization } };
                if (group.Rank == 0)
                {
                    foreach (var line in folder.SkippedLines()) observer.OnMessage(line);
                    observer.OnMessage(folder.Summary(folder.Skipped.Count > 0 ? run.SkippedPictures : null));
                }
            }
            else data = DataModule.Load(options.Data.Dataset.Name, options.Data.DataDir);
        }
        catch
        {
            Release(created);
            throw;
        }
        try
        {
            CheckFits(options, data);
            // k-NN and the linear probe score against labels; an unlabelled picture folder has none, so they are off and the run says so.
            if (data.Train.NumClasses < 1 && (options.Monitors.KnnEvery > 0 || options.Monitors.LinearProbeEvery > 0))
            {
                observer.OnMessage($"{data.Train.Name} has no labels: the k-NN monitor and the linear probe are off for this run");
                this.options = options = options with { Monitors = options.Monitors with { KnnEvery = 0, LinearProbeEvery = 0 } };
            }
            views = new Views(data.Info, Device, options.Augmentation);
            BatchesPerEpoch = Math.Min(data.PretrainTrain.Count / options.Data.BatchSize, options.Trainer.LimitTrainBatches ?? int.MaxValue);
            // The seed fixes initialisation (the model's, then the probe's); the loaders derive their own seeds from it per epoch and batch.
            Determinism.Seed(options.Seed);
            module = new PretrainModule(options, Device, BatchesPerEpoch, observer.OnMessage);
            KernelCheck = module.KernelCheck;
            if (KernelCheck.Unfixable.Any()) throw new KernelCheckException(KernelCheck.Summary!);
            if (KernelCheck.Summary is { } found) observer.OnMessage(found);
            if (options.Trainer.Precision == Precision.Bf16Mixed && Device.type == TorchSharp.DeviceType.CPU && !CpuInfo.Bf16IsFaster)
                observer.OnMessage(CpuInfo.HasBf16Units
                    ? $"bf16-mixed on {CpuInfo.Bf16SlowerWithoutAmx} (--precision auto takes float32 here)"
                    : "bf16-mixed on a CPU without AVX512-BF16 or AMX: bfloat16 convolutions will be slower than float32 here");
            if (options.Monitors.OnlineFt)
            {
                if (data.Train.NumClasses < 1) throw new OptionException(nameof(MonitorOptions.OnlineFt), $"needs labels; {data.Train.Name} has none");
                probe = new OnlineProbe(options.Model.FeatureDim, data.Info.NumClasses, Device);
            }
            if (options.InitFrom is { } init && resume is null) InitialiseFrom(init, data.Info, observer);
            if (resume is not null)
            {
                resume.Restore(module.Model, module.Optimizer, probe?.State, resume.Path, module.Scaler);
                start = resume.Position;
                if (resume.Format == CheckpointFormat.Lightning)
                    observer.OnMessage($"continuing the reference's run from {resume.Path} at epoch {start.Epoch}, step {start.GlobalStep}"
                        + (start.GlobalStep != (long)start.Epoch * BatchesPerEpoch
                            ? $" (here an epoch is {BatchesPerEpoch} steps, so the schedule stands where {start.GlobalStep / Math.Max(1, BatchesPerEpoch)} epochs would put it)" : ""));
            }

            bool chief = group.Rank == 0;
            // Rank 0's weights reach every process at fit start; from here each draws its own
            // posterior noise, so the processes' shards are not sampled alike.
            if (group.Rank > 0) Determinism.Seed(options.Seed + 1_000_003L * group.Rank);
            var callbacks = new List<ITrainingCallback>();
            if (group.Size > 1) parallel = new DataParallel(group, module.Model, module.Trainable, probe?.Layer, options.Data.BatchSize);
            if (chief) callbacks.AddRange([new RunConfigFile(run, () => module.Options, KernelCheck, () => KernelGuard.Shared.Problems.Where(p => p.Rerouted).ToList()), new MetricsLogger(run, resumed: resume is not null)]);
            // The probe trains after each step and scores before the k-NN monitor, as the reference's callbacks run.
            if (probe is not null) callbacks.Add(new OnlineProbeCallback(probe, module.Model, data.Train, views, options, group.Shard(), parallel?.ProbeBucket));
            if (chief) callbacks.AddRange([new FeatureMonitor(module.Model, data, views, options), new ReconstructionGrid(run, module.Model, data.Info.Normalization)]);
            callbacks.AddRange(extraCallbacks ?? []);
            if (chief) callbacks.AddRange([new ProgressReporter(observer, () => module.Options.Trainer, BatchesPerEpoch, group.Size), new CheckpointCallback(run, module, probe, observer), new ReportCallback(run, observer.OnMessage)]);
            // Last, so that an epoch's end it times includes the checkpoint; on every process, which plan together.
            var began = jobStart ?? System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime();
            if (options.Trainer is { MaxTime: { } budget, Plan: null })
                callbacks.Add(new TimeBudgetCallback(budget, began, Cap(options.Trainer, BatchesPerEpoch), BatchesPerEpoch, options.Optimizer.WarmupEpochs,
                    step => EstimateCosts(step, views, evaluation, group), group, UsePlan, observer.OnMessage));
            loop = new TrainingLoop(module, LoopSettings.Of(options), data, views, callbacks, parallel)
            {
                Report = observer.OnMessage,
                LastGoodCheckpoint = () => File.Exists(run.LastCheckpoint) ? $"the last good checkpoint is {run.LastCheckpoint}" : "no checkpoint was written yet",
                TrainUntil = options.Trainer is { MaxTime: { } whole, Plan: null } ? began + whole - TimeSpan.FromSeconds(TimeBudget.Margin(whole)) : null,
            };
        }
        catch
        {
            parallel?.Dispose();
            probe?.Dispose();
            module?.Dispose();
            data.Dispose();
            Release(created);
            throw;
        }
    }

    public Device Device { get; }
    public AavaeModel Model => module.Model;
    /// <summary>What the convolution check found on this CPU and which layers it rerouted.</summary>
    public KernelReport KernelCheck { get; }
    public DataModule Data => data;
    public int BatchesPerEpoch { get; }
    public TrainingPosition Position => loop.Position;

    /// <summary>Trains from the start (or the restored position) to max_epochs or max_steps; Ctrl-C (<paramref name="stop"/>) checkpoints and returns.</summary>
    public PretrainResult Run(CancellationToken stop = default)
    {
        if (folder is { Skipped.Count: > 0 } && runLock is not null) Embedding.AtomicFile.Write(run.SkippedPictures, s => s.Write(System.Text.Encoding.UTF8.GetBytes(folder.SkippedText())));
        var result = loop.Run(start, stop);
        if (parallel is not null) observer.OnMessage(parallel.Summary());
        if (runLock is not null)
        {
            // What the encoder learned is read once, at the end: reading it at every validation would eat a time budget.
            if (!result.Interrupted && result.Position.GlobalStep > 0) Analyse(result.Position.Batch == 0 ? result.Position.Epoch - 1 : result.Position.Epoch);
            ReportPage.TryWriteFor(run.Path, result.Interrupted ? ReportState.Interrupted : ReportState.Finished, observer.OnMessage);
        }
        return new PretrainResult(run, result.Position, result.Interrupted, result.LastEpoch);
    }

    /// <summary>
    /// The end-of-run analysis for the run's page (t-SNE map, neighbours, collapse signal), saved in
    /// the run folder. The run's work is done and checkpointed by now: a failure here is said and the
    /// page goes without it.
    /// </summary>
    private void Analyse(int epoch)
    {
        RunAnalysis analysis;
        try
        {
            analysis = RunAnalysis.Compute(module.Model.Encoder, data, views, epoch, AnalysisFor(options));
            analysis.Save(run.Path);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            observer.OnMessage($"the run's page goes without its map and neighbours: {e.Message}");
            return;
        }
        observer.OnMessage(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"mapped {analysis.Map.Count:N0} validation pictures by t-SNE and found their neighbours for the run's page ({analysis.Seconds:F0} s, the map {analysis.MapSeconds:F0} s)"));
    }

    /// <summary>Runs capped to a few batches (trials, tests) keep the analysis as small.</summary>
    private static AnalysisOptions AnalysisFor(PretrainOptions options) =>
        options.Trainer.LimitValBatches is int batches
            ? new AnalysisOptions(MapPoints: Math.Min(new AnalysisOptions().MapPoints, Math.Max(0, batches) * options.Data.BatchSize), SearchPictures: 512, Batch: options.Data.BatchSize)
            : new AnalysisOptions(Batch: options.Data.BatchSize);

    /// <summary>
    /// Linear evaluation of the trained encoder on the run's data (<c>pretrain --linear-eval</c>), its
    /// result written next to the run's checkpoints; the path it was written to comes back with it.
    /// </summary>
    public (LinearEvalResult Result, string Path) LinearEvaluation(LinearEvalOptions evaluation, ITrainingObserver evaluationObserver)
    {
        // The other processes of a data-parallel run are done: evaluation may take every core it is allowed.
        if (parallel is not null && Environment.GetEnvironmentVariable("OMP_NUM_THREADS") is null) set_num_threads(Environment.ProcessorCount);
        var result = new LinearEval(evaluation, evaluationObserver).Run(module.Model.Encoder, data, Device);
        var path = run.LinearEvalResult(result.Mode, evaluation.Test);
        result.Save(path, run.LastCheckpoint, evaluation.For(data.Info), replace: true);
        if (runLock is not null) ReportPage.TryWriteFor(run.Path, ReportState.Finished, evaluationObserver.OnMessage);
        return (result, path);
    }

    /// <summary>
    /// Linear evaluation after a run (<c>pretrain --linear-eval</c>): the run's seed, threads and
    /// batch caps, so that a capped trial run stays capped in evaluation too.
    /// </summary>
    public static LinearEvalOptions LinearEvaluationOptions(PretrainOptions options, FeatureMode features) => new()
    {
        Features = features, Seed = options.Seed, Threads = options.Trainer.Threads,
        LimitTrainBatches = options.Trainer.LimitTrainBatches, LimitEvalBatches = options.Trainer.LimitValBatches is > 0 ? options.Trainer.LimitValBatches : null,
    };

    /// <summary>The last step --max-epochs and --max-steps allow.</summary>
    private static long Cap(TrainerOptions trainer, int batchesPerEpoch) => Math.Min(trainer.MaxSteps ?? long.MaxValue, (long)trainer.MaxEpochs * batchesPerEpoch);

    /// <summary>A time budget fixed the run's steps: the schedule, the loop's end and the recorded settings follow them.</summary>
    private void UsePlan(TimePlan plan, DateTime trainUntil)
    {
        module.UsePlan(plan);
        options = module.Options;
        loop.Lengthen(options.Trainer);
        loop.TrainUntil = trainUntil;
    }

    /// <summary>
    /// What this run costs here besides its steps of <paramref name="step"/> seconds, from the
    /// encoder's speed timed on a validation batch: validation runs the encoder once and the decoder
    /// val_samples times, each about the encoder's cost, on this process's share; the linear
    /// evaluation encodes its images and takes its linear steps on the whole machine.
    /// </summary>
    private RunCosts EstimateCosts(double step, Views views, LinearEvalOptions? evaluation, IProcessGroup group)
    {
        int batch = evaluation?.BatchSize ?? options.Data.BatchSize;
        double perImage = EncodeSecondsPerImage(views, batch);
        int valBatch = options.Data.BatchSize;
        int valBatches = new LoaderOptions(valBatch, Shuffle: false, DropLast: false, options.Seed, LimitBatches: options.Trainer.LimitValBatches).BatchesOf(data.PretrainVal.Count);
        double epochEnd = Math.Min(data.PretrainVal.Count, (long)valBatches * valBatch) * perImage * (1 + options.Objective.ValSamples) / group.Size;
        // The end-of-run analysis: its pictures encoded, and its map.
        var analysis = AnalysisFor(options);
        // Rank 0 runs it while the others wait; every rank counts it, since the processes average their estimates.
        double page = (Math.Min(analysis.MapPoints, data.Val.Count) + Math.Min(analysis.SearchPictures, data.Train.Count)) * perImage
            + Tsne.EstimateSeconds(Math.Min(analysis.MapPoints, data.Val.Count));
        double after = page;
        if (evaluation is not null && data.Train.NumClasses > 0)
        {
            var eval = new LinearEval(evaluation, new SilentObserver());
            var (images, linearSteps) = eval.Work(data);
            after += (images * perImage + linearSteps * eval.LinearStepSeconds(module.Model.Encoder.FeatureDim, data.Info.NumClasses, Device)
                + eval.KnnSeconds(data, module.Model.Encoder.FeatureDim)) / group.LocalSize;
        }
        return new RunCosts(step, epochEnd, after, page);
    }

    /// <summary>
    /// The encoder's evaluation pass, per image, at <paramref name="batch"/> images a batch, data
    /// loading included: batches 2-6. The first builds the kernels; fewer batches read the guest's
    /// short bursts of speed as the pass's rate (docs/results.md, "A time budget").
    /// </summary>
    private double EncodeSecondsPerImage(Views views, int batch)
    {
        long timedFrom = 0;
        int timed = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var encoded = FeatureExtractor.Encode(module.Model.Encoder, data.Val, views, batch, limitBatches: 6, progress: (b, n) =>
        {
            if (b == 1) timedFrom = System.Diagnostics.Stopwatch.GetTimestamp();
            else timed = Math.Min(data.Val.Count, b * batch) - Math.Min(data.Val.Count, batch);
        });
        return timed > 0 ? System.Diagnostics.Stopwatch.GetElapsedTime(timedFrom).TotalSeconds / timed : clock.Elapsed.TotalSeconds / Math.Max(1, encoded.Count);
    }

    /// <summary>Copies encoder, projection, decoder and log_scale from a checkpoint; the optimizer starts afresh.</summary>
    private void InitialiseFrom(string path, DatasetInfo info, ITrainingObserver observer)
    {
        using var weights = PretrainedWeights.Read(path, info);
        var report = weights.LoadInto(module.Model, path);
        observer.OnMessage($"initialised from {path} ({weights.Format.Name()}){(report.Unexpected.Count > 0 ? $"; ignored keys: {string.Join(", ", report.Unexpected)}" : "")}");
    }

    private static void CheckFits(PretrainOptions options, DataModule data)
    {
        if (options.Model.InputHeight != data.Info.InputHeight)
            throw new OptionException(nameof(ModelOptions.InputHeight), $"{options.Model.InputHeight} does not match {data.Info.Name}'s {data.Info.InputHeight}x{data.Info.InputHeight} images");
        if (options.Data.BatchSize > data.PretrainTrain.Count)
            throw new OptionException(nameof(DataOptions.BatchSize), $"{options.Data.BatchSize} is larger than {data.PretrainTrain.Name} ({data.PretrainTrain.Count} images)");
    }

    /// <summary>Refuses a precision the device cannot run; a front end calls it before it touches a run folder.</summary>
    public static void CheckPrecision(PretrainOptions options, Device device) =>
        OptionException.Check(options.Trainer.Precision != Precision.Fp16Mixed || device.type == TorchSharp.DeviceType.CUDA, nameof(TrainerOptions.Precision),
            "16-mixed (the reference's --fp16: float16 with a gradient scaler) runs on CUDA only; on this CPU use --precision bf16-mixed, the same speed-up without a scaler");

    /// <summary>The data-parallel strategy, when training runs over several processes.</summary>
    public DataParallel? Parallel => parallel;

    public void Dispose()
    {
        parallel?.Dispose();
        probe?.Dispose();
        module.Dispose();
        data.Dispose();
        runLock?.Dispose();
    }

    /// <summary>A set-up that failed leaves no trace: the lock goes, and so does a folder it created.</summary>
    private void Release(bool created)
    {
        runLock?.Dispose();
        if (created && Directory.Exists(run.Path) && !Directory.EnumerateFileSystemEntries(run.Path).Any(e => !Path.GetFileName(e).StartsWith(".lock", StringComparison.Ordinal)))
            Directory.Delete(run.Path, recursive: true);
    }
}

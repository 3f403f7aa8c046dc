using Aavae.Optimization;
using System.CommandLine;
using Aavae.Checkpoints;
using Aavae.Data;
using Aavae.Distributed;
using Aavae.Progress;
using System.Runtime.InteropServices;
using static TorchSharp.torch;
using Aavae.Evaluation;
using Aavae.Models;
using Aavae.Runtime;
using Aavae.Training;

namespace Aavae.Cli.Commands;

/// <summary>
/// <c>aavae pretrain</c>: the reference's vae.py command line (kebab-case, snake_case accepted),
/// over <see cref="Pretrainer"/>. Values come from the preset (or, with --resume, from the run's
/// saved configuration), then from the options the user typed.
/// </summary>
internal static class PretrainCommand
{
    public const int Interrupted = 130;

    public static Command Create()
    {
        var model = new ModelOptionSet().FromPresets();
        var preset = CliOptions.Create("--preset", "starting values: paper (the paper's CIFAR-10 run: AAVAE, resnet50/decoder50, batch 256, lr 2.5e-4, warm-up 10, val_samples 16, 3,200 epochs; for GPUs), reference (vae.py's argparse defaults: a VAE, batch 128, lr 1e-3, warm-up 20), cpu-small (Fashion-MNIST pre-training and linear evaluation in about 10 minutes on a 2-core CPU) or cpu-long (the same model five times longer, about 40 minutes, scored every 2 epochs: the curves of aavae plot)", "paper");
        var dataset = CliOptions.ForSetting(nameof(PretrainOptions.Dataset), "fashion-mnist");
        var dataDir = CliOptions.ForSetting<string?>(nameof(PretrainOptions.DataDir), null);
        var denoising = CliOptions.FromKind<bool>(nameof(PretrainOptions.Denoising), o => o.Denoising);
        var cropScale = CliOptions.FromPreset<double>(nameof(PretrainOptions.CropScale), o => o.CropScale);
        var jitter = CliOptions.ForSetting<double?>(nameof(PretrainOptions.JitterStrength), null);
        var klCoeff = CliOptions.FromKind<double>(nameof(PretrainOptions.KlCoeff), o => o.KlCoeff);
        var logScale = CliOptions.FromPreset<double>(nameof(ModelOptions.LogScale), o => o.Model.LogScale);
        var learnScale = CliOptions.FromPreset<int>(nameof(ModelOptions.LearnScale), o => o.Model.LearnScale ? 1 : 0);
        var valSamples = CliOptions.FromPreset<int>(nameof(PretrainOptions.ValSamples), o => o.ValSamples);
        var optimizer = CliOptions.FromPreset<string>(nameof(PretrainOptions.Optimizer), o => o.Optimizer.Name());
        var lr = CliOptions.FromPreset<double>(nameof(PretrainOptions.LearningRate), o => o.LearningRate);
        var weightDecay = CliOptions.FromPreset<double>(nameof(PretrainOptions.WeightDecay), o => o.WeightDecay);
        var excludeBnBias = CliOptions.FromPreset<bool>(nameof(PretrainOptions.ExcludeBnBias), o => o.ExcludeBnBias);
        var warmup = CliOptions.FromPreset<double>(nameof(PretrainOptions.WarmupEpochs), o => o.WarmupEpochs);
        var maxEpochs = CliOptions.FromPreset<int>(nameof(PretrainOptions.MaxEpochs), o => o.MaxEpochs);
        var cosine = CliOptions.FromPreset<int>("CosineDecay", o => o.Decay == DecayKind.Cosine ? 1 : 0, "1: cosine decay to 0 after warm-up");
        var linear = CliOptions.FromPreset<int>("LinearDecay", o => o.Decay == DecayKind.Linear ? 1 : 0, "1: linear decay to 0 after warm-up");
        var batchSize = CliOptions.FromPreset<int>(nameof(PretrainOptions.BatchSize), o => o.BatchSize);
        var seed = CliOptions.FromPreset<int>(nameof(PretrainOptions.Seed), o => o.Seed);
        var onlineFt = CliOptions.FromPreset<bool>(nameof(PretrainOptions.OnlineFt), o => o.OnlineFt);
        var knnEvery = CliOptions.FromPreset<int>(nameof(PretrainOptions.KnnEvery), o => o.KnnEvery);
        var probeEvery = CliOptions.FromPreset<int>(nameof(PretrainOptions.LinearProbeEvery), o => o.LinearProbeEvery);
        var device = CliOptions.Device();
        var memoryFormat = CliOptions.ForSetting<string>(nameof(PretrainOptions.MemoryFormat), new PretrainOptions().MemoryFormat.Name());
        var precision = CliOptions.ForSetting<string>(nameof(PretrainOptions.Precision), new PretrainOptions().Precision.Name());
        var fp16 = CliOptions.Create("--fp16", "the reference's flag: --precision 16-mixed", false);
        var gpus = CliOptions.Create<int?>("--gpus", "number of GPUs (Lightning's flag): 0 is --device cpu, 1 is --device cuda, N > 1 is one process per GPU started by an MPI launcher (mpirun -np N aavae pretrain ... --gpus N)", null);
        var output = CliOptions.Create<string?>("--output", "run folder (default: runs/<model>-<dataset>-N)", null);
        var resume = CliOptions.Create<string?>("--resume", "continue the run in this folder, or from this checkpoint: one of this project's, or a pre-training .ckpt the reference wrote (its --ckpt_path: weights, optimizer, schedule and epoch; the run continues in a new --output folder)", null);
        resume.Aliases.Add("--ckpt_path");
        var overwrite = CliOptions.Create("--overwrite", "replace the run already in --output", false);
        var checkpointEvery = CliOptions.FromPreset<int>(nameof(PretrainOptions.CheckpointEvery), o => o.CheckpointEvery);
        var threads = CliOptions.ForSetting<int?>(nameof(PretrainOptions.Threads), null);
        var limitTrain = CliOptions.ForSetting<int?>(nameof(PretrainOptions.LimitTrainBatches), null);
        var limitVal = CliOptions.ForSetting<int?>(nameof(PretrainOptions.LimitValBatches), null);
        var maxSteps = CliOptions.ForSetting<long?>(nameof(PretrainOptions.MaxSteps), null);
        var initFrom = CliOptions.ForSetting<string?>(nameof(PretrainOptions.InitFrom), null);
        var readTest = LinearEvalCommand.ReadTestOption();
        var linearEval = CliOptions.Create<string?>("--linear-eval", "when training ends, run linear evaluation with augmented, cached or unshuffled features (see linear-eval --help)", null);

        var command = new Command("pretrain", "Pre-train an AAVAE (or the VAE / AE baselines) and keep checkpoints, metrics and pictures");
        model.AddTo(command);
        foreach (var o in new Option[]
                 {
                     preset, dataset, dataDir, denoising, cropScale, jitter, klCoeff, logScale, learnScale, valSamples, optimizer, lr, weightDecay, excludeBnBias,
                     warmup, maxEpochs, cosine, linear, batchSize, seed, onlineFt, knnEvery, probeEvery, device, memoryFormat, precision, fp16, gpus, output, resume, overwrite,
                     checkpointEvery, threads, limitTrain, limitVal, maxSteps, linearEval, readTest, initFrom,
                 })
            command.Options.Add(o);

        command.SetAction(r =>
        {
            TorchRuntime.EnsureLoaded();
            // Under mpirun / mpiexec / srun with several processes this is the MPI job; else one process.
            using var group = ProcessGroups.Start();
            try
            {
                return Run(r, group);
            }
            catch (Exception e) when (group.Size > 1)
            {
                // One process failing must end the job, or the others wait for it forever.
                group.Abort(ErrorReporting.Report(e, $"rank {group.Rank} of {group.Size}: "));
                throw;
            }
        });
        return command;

        int Run(ParseResult r, IProcessGroup group)
        {
            string? resumeFrom = r.GetValue(resume);
            TrainingCheckpoint? checkpoint = resumeFrom is null ? null : TrainingCheckpoint.Read(RunFolder.ResolveCheckpoint(resumeFrom));

            ModelKind? kind = r.IsExplicit(model.Model) ? ModelOptionSet.ParseKind(r.GetValue(model.Model)!) : null;
            DeviceChoice? deviceChoice = r.GetValue(gpus) is int n
                ? n switch
                {
                    0 => DeviceChoice.Cpu,
                    1 => DeviceChoice.Cuda,
                    < 0 => throw new ArgumentException($"--gpus must be >= 0, got {n}"),
                    // One process per GPU, as Lightning's DDP; each takes cuda:<its local rank>.
                    _ when group.Size == n => DeviceChoice.Cuda,
                    _ when group.Size == 1 => throw new ArgumentException($"--gpus {n}: start one process per GPU with an MPI launcher: mpirun -np {n} aavae pretrain ... --gpus {n}"),
                    _ => throw new ArgumentException($"--gpus {n} does not match the {group.Size} processes the launcher started"),
                }
                : null;
            T Pick<T>(Option<T> opt, T current) => r.IsExplicit(opt) ? r.GetValue(opt)! : current;

            // What the user typed, laid over the preset (or the resumed run) by the library.
            var o = PretrainSetup.Resolve(r.GetValue(preset)!, kind, r.IsExplicit(dataset) ? r.GetValue(dataset) : null, checkpoint, o => o with
            {
                Model = model.Apply(r, o.Model) with
                {
                    LogScale = Pick(logScale, o.Model.LogScale),
                    LearnScale = r.IsExplicit(learnScale) ? r.GetValue(learnScale) != 0 : o.Model.LearnScale,
                },
                DataDir = Pick(dataDir, o.DataDir),
                Denoising = Pick(denoising, o.Denoising),
                CropScale = Pick(cropScale, o.CropScale),
                JitterStrength = Pick(jitter, o.JitterStrength),
                KlCoeff = Pick(klCoeff, o.KlCoeff),
                ValSamples = Pick(valSamples, o.ValSamples),
                Optimizer = r.IsExplicit(optimizer) ? OptimizerKinds.Parse(r.GetValue(optimizer)!) : o.Optimizer,
                LearningRate = Pick(lr, o.LearningRate),
                WeightDecay = Pick(weightDecay, o.WeightDecay),
                ExcludeBnBias = Pick(excludeBnBias, o.ExcludeBnBias),
                WarmupEpochs = Pick(warmup, o.WarmupEpochs),
                MaxEpochs = Pick(maxEpochs, o.MaxEpochs),
                Decay = r.IsExplicit(cosine) || r.IsExplicit(linear)
                    ? r.GetValue(cosine) != 0 ? DecayKind.Cosine : r.GetValue(linear) != 0 ? DecayKind.Linear : DecayKind.None
                    : o.Decay,
                BatchSize = Pick(batchSize, o.BatchSize),
                Seed = Pick(seed, o.Seed),
                OnlineFt = Pick(onlineFt, o.OnlineFt),
                KnnEvery = Pick(knnEvery, o.KnnEvery),
                LinearProbeEvery = Pick(probeEvery, o.LinearProbeEvery),
                Device = deviceChoice ?? (r.IsExplicit(device) ? DeviceChoice.Parse(r.GetValue(device)!) : o.Device),
                MemoryFormat = r.IsExplicit(memoryFormat) ? MemoryFormats.Parse(r.GetValue(memoryFormat)!) : o.MemoryFormat,
                Precision = r.GetValue(fp16) ? Precision.Fp16Mixed : r.IsExplicit(precision) ? Precisions.Parse(r.GetValue(precision)!) : o.Precision,
                Threads = Pick(threads, o.Threads),
                CheckpointEvery = Pick(checkpointEvery, o.CheckpointEvery),
                LimitTrainBatches = Pick(limitTrain, o.LimitTrainBatches),
                LimitValBatches = Pick(limitVal, o.LimitValBatches),
                MaxSteps = Pick(maxSteps, o.MaxSteps),
                InitFrom = Pick(initFrom, o.InitFrom),
            });
            o.Device.ForProcess(group.LocalRank, group.LocalSize).Resolve();
            var evaluation = r.GetValue(linearEval) is { } mode
                ? new LinearEvalOptions
                {
                    Features = FeatureModes.Parse(mode), Seed = o.Seed, Test = r.GetValue(readTest), Threads = o.Threads,
                    LimitTrainBatches = o.LimitTrainBatches, LimitEvalBatches = o.LimitValBatches is > 0 ? o.LimitValBatches : null,
                }
                : null;
            // Rank 0 names (and creates) the run folder; the others train into the same one and write nothing.
            var folder = group.Rank == 0 ? PretrainSetup.Folder(o, checkpoint, r.GetValue(output), r.GetValue(overwrite)).Path : null;
            var run = new RunFolder(group.BroadcastString(folder));
            bool continuesOwnRun = checkpoint is not null && checkpoint.Format != LightningRun.Format;

            if (group.Rank == 0)
            {
                Console.WriteLine(checkpoint is null ? $"pretrain: new run in {run.Path}"
                    : continuesOwnRun ? $"pretrain: resuming {run.Path} at epoch {checkpoint.Position.Epoch}, batch {checkpoint.Position.Batch} (step {checkpoint.Position.GlobalStep})"
                    : $"pretrain: continuing the reference's run {resumeFrom} in {run.Path} at epoch {checkpoint.Position.Epoch} (step {checkpoint.Position.GlobalStep})");
                if (group.Size > 1)
                    Console.WriteLine($"data-parallel: {group.Size} processes over {group.Backend}, {o.BatchSize / group.Size} images each per step, {get_num_threads()} thread{(get_num_threads() == 1 ? "" : "s")} each");
                Console.WriteLine(o.ToJson());
            }
            return Train(o, run, checkpoint, evaluation, group);
        }
    }

    /// <summary>
    /// Runs the trainer with a progress display (rank 0's); Ctrl-C, or the SIGTERM a launcher or
    /// scheduler sends, asks it to stop after the current step and write last.ckpt.
    /// </summary>
    public static int Train(PretrainOptions options, RunFolder run, TrainingCheckpoint? checkpoint, LinearEvalOptions? evaluation, IProcessGroup group)
    {
        using var stop = new CancellationTokenSource();
        bool RequestStop(string how)
        {
            // The first request finishes the step and checkpoints; a second one kills the process.
            if (stop.IsCancellationRequested) return false;
            stop.Cancel();
            if (group.Rank == 0) Console.Error.WriteLine($"aavae: {how}: stopping after this step ({how} again to kill without a checkpoint)");
            return true;
        }
        ConsoleCancelEventHandler onCancel = (_, e) => e.Cancel = RequestStop("Ctrl-C");
        Console.CancelKeyPress += onCancel;
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => c.Cancel = RequestStop("SIGTERM"));
        try
        {
            var console = new ConsoleObserver();
            ITrainingObserver observer = group.Rank == 0 ? console : new SilentObserver();
            using var trainer = new Pretrainer(options, run, observer, checkpoint, group: group);
            if (group.Rank != 0) return trainer.Run(stop.Token).Interrupted ? Interrupted : 0;
            Console.WriteLine($"device {trainer.Device}, {trainer.BatchesPerEpoch} steps an epoch, {options.MaxEpochs} epochs");
            var result = console.Show("pre-training", () => trainer.Run(stop.Token));
            Console.WriteLine(result.Interrupted
                ? $"interrupted; resume with: aavae pretrain --resume {run.Path}"
                : $"done: {run.Path} (checkpoint {run.LastCheckpoint})");
            if (result.Interrupted) return Interrupted;
            if (evaluation is not null)
            {
                // The other processes are done: linear evaluation may take every core it is allowed.
                if (group.Size > 1 && Environment.GetEnvironmentVariable("OMP_NUM_THREADS") is null) set_num_threads(Environment.ProcessorCount);
                var scored = LinearEvalCommand.Run(trainer.Model.Encoder, trainer.Data, evaluation, trainer.Device);
                var path = run.LinearEvalResult(scored.Mode, evaluation.Test);
                LinearEvalCommand.Save(path, scored, run.LastCheckpoint, options.Dataset.Name, evaluation);
                Console.WriteLine($"wrote {path}");
            }
            return 0;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}

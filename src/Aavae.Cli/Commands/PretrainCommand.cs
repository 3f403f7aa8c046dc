using System.CommandLine;
using System.Runtime.InteropServices;
using Aavae.Checkpoints;
using Aavae.Configuration;
using Aavae.Distributed;
using Aavae.Evaluation;
using Aavae.Models;
using Aavae.Optimization;
using Aavae.Progress;
using Aavae.Runtime;
using Aavae.Training;
using static TorchSharp.torch;

namespace Aavae.Cli.Commands;

/// <summary>
/// <c>aavae pretrain</c>: the reference's vae.py command line (kebab-case, snake_case accepted),
/// over <see cref="Pretrainer"/>. Values come from the preset (or, with --resume, from the run's
/// saved configuration), then from the settings the user typed.
/// </summary>
internal static class PretrainCommand
{
    public const int Interrupted = 130;

    public static Command Create()
    {
        var settings = new SettingOptions(typeof(PretrainOptions), CliOptions.PresetDefault);
        var preset = CliOptions.Create("--preset", "starting values: " + string.Join(", ", Presets.Names.Select(n => $"{n} ({Presets.Describe(n)})")), "paper");
        // vae.py's spellings of two settings: --cosine_decay 1 / --linear_decay 1 are --decay, --fp16 is --precision 16-mixed.
        var cosine = CliOptions.Create<int>("--cosine-decay", "the reference's flag: 1 is --decay cosine", 0);
        var linear = CliOptions.Create<int>("--linear-decay", "the reference's flag: 1 is --decay linear", 0);
        var fp16 = CliOptions.Create("--fp16", "the reference's flag: --precision 16-mixed", false);
        var gpus = CliOptions.Create<int?>("--gpus", "number of GPUs (Lightning's flag): 0 is --device cpu, 1 is --device cuda, N > 1 is one process per GPU started by an MPI launcher (mpirun -np N aavae pretrain ... --gpus N)", null);
        var output = CliOptions.Create<string?>("--output", "run folder (default: runs/<model>-<dataset>-N)", null);
        var resume = CliOptions.Create<string?>("--resume", "continue the run in this folder, or from this checkpoint: one of this project's, or a pre-training .ckpt the reference wrote (its --ckpt_path: weights, optimizer, schedule and epoch; the run continues in a new --output folder)", null);
        resume.Aliases.Add("--ckpt_path");
        var overwrite = CliOptions.Create("--overwrite", "replace the run already in --output", false);
        var linearEval = CliOptions.Create<string?>("--linear-eval", "when training ends, run linear evaluation with augmented, cached or unshuffled features (see linear-eval --help)", null);
        var evaluation = new SettingOptions(typeof(LinearEvalOptions), include: s => s.Name == nameof(LinearEvalOptions.Test));

        var command = new Command("pretrain", "Pre-train an AAVAE (or the VAE / AE baselines) and keep checkpoints, metrics and pictures");
        command.Options.Add(preset);
        settings.AddTo(command);
        foreach (var o in new Option[] { cosine, linear, fp16, gpus, output, resume, overwrite, linearEval }) command.Options.Add(o);
        evaluation.AddTo(command);

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
            // vae.py's --batch_size is per process under DDP; this project's --batch-size is the global batch.
            bool perProcessBatch = group.Size > 1 && settings.Spelling(r, nameof(PretrainOptions.BatchSize)) == "--batch_size";

            // What the user typed, laid over the preset (or the resumed run) by the library.
            var o = PretrainSetup.Resolve(r.GetValue(preset)!, (ModelKind?)settings.Value(r, nameof(ModelOptions.Kind)),
                (settings.Value(r, nameof(PretrainOptions.Dataset)) as Data.DatasetInfo)?.Name, checkpoint, o =>
                {
                    o = settings.Apply(r, o);
                    if (r.IsExplicit(cosine) || r.IsExplicit(linear)) o = o with { Decay = DecayKinds.FromReference(r.GetValue(cosine), r.GetValue(linear)) };
                    if (r.GetValue(fp16)) o = o with { Precision = Precision.Fp16Mixed };
                    if (r.GetValue(gpus) is int n) o = o with { Device = DeviceChoice.ForGpus(n, group.Size) };
                    if (perProcessBatch) o = o with { BatchSize = o.BatchSize * group.Size };
                    return o;
                });
            var device = o.Device.ForProcess(group.LocalRank, group.LocalSize).Resolve();
            o = o with { Precision = o.Precision.On(device) };
            Pretrainer.CheckPrecision(o, device);
            var evaluate = r.GetValue(linearEval) is { } mode
                ? evaluation.Apply(r, o.LinearEvaluation(SettingValues.Parse<FeatureMode>(mode, "LinearEval")))
                : null;
            // Rank 0 names (and creates) the run folder; the others train into the same one and write nothing.
            var folder = group.Rank == 0 ? PretrainSetup.Folder(o, checkpoint, r.GetValue(output), r.GetValue(overwrite)).Path : null;
            var run = new RunFolder(group.BroadcastString(folder));

            if (group.Rank == 0)
            {
                bool continuesOwnRun = checkpoint is not null && checkpoint.Format != CheckpointFormat.Lightning;
                Console.WriteLine(checkpoint is null ? $"pretrain: new run in {run.Path}"
                    : continuesOwnRun ? $"pretrain: resuming {run.Path} at epoch {checkpoint.Position.Epoch}, batch {checkpoint.Position.Batch} (step {checkpoint.Position.GlobalStep})"
                    : $"pretrain: continuing the reference's run {resumeFrom} in {run.Path} at epoch {checkpoint.Position.Epoch} (step {checkpoint.Position.GlobalStep})");
                if (perProcessBatch)
                    Console.WriteLine($"--batch_size {o.BatchSize / group.Size} is per process, as the reference reads it: a global batch of {o.BatchSize} over {group.Size} processes");
                if (group.Size > 1)
                    Console.WriteLine($"data-parallel: {group.Size} processes over {group.Backend}, {o.BatchSize / group.Size} images each per step, {get_num_threads()} thread{(get_num_threads() == 1 ? "" : "s")} each");
                Console.WriteLine(o.ToJson());
            }
            return Train(o, run, checkpoint, evaluate, group);
        }
    }

    /// <summary>
    /// Runs the trainer with a progress display (rank 0's); Ctrl-C, or the SIGTERM a launcher or
    /// scheduler sends, asks it to stop after the current step and write last.ckpt.
    /// </summary>
    private static int Train(PretrainOptions options, RunFolder run, TrainingCheckpoint? checkpoint, LinearEvalOptions? evaluation, IProcessGroup group)
    {
        using var stop = new CancellationTokenSource();
        StalledStepWatch? watch = null;
        bool RequestStop(string how)
        {
            // The first request finishes the step and checkpoints; a second one kills the process.
            if (stop.IsCancellationRequested) return false;
            stop.Cancel();
            if (group.Rank == 0) Console.Error.WriteLine($"aavae: {how}: stopping after this step ({how} again to kill without a checkpoint)");
            watch?.StopRequested(how);
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
            using var stalled = watch = new StalledStepWatch(() => trainer.Position.GlobalStep, Console.Error.WriteLine);
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
                var evaluating = LinearEvalCommand.Observer(evaluation);
                var (scored, path) = evaluating.Show("linear evaluation", () => trainer.LinearEvaluation(evaluation, evaluating));
                Console.WriteLine(scored.Summary());
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

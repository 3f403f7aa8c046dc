using System.CommandLine;
using Aavae.Checkpoints;
using Aavae.Distributed;
using Aavae.Evaluation;
using Aavae.Models;
using Aavae.Options;
using Aavae.Progress;
using Aavae.Runs;
using Aavae.Runtime;
using Aavae.Training;
using Aavae.Configuration;
using Aavae.Data;

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
        var preset = CliOptions.Create<string?>("--preset", "starting values (default: " + Presets.Default + "):\n"
            + string.Join("\n", Presets.All.Select(p => $"{p.Name}: {p.Describe()}")), null);
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
            return ProcessGroups.Run(group => Run(r, group), (e, prefix) => ErrorReporting.Report(e, prefix));
        });
        return command;

        int Run(ParseResult r, IProcessGroup group)
        {
            var request = new PretrainRequest(
                Preset: r.GetValue(preset),
                Kind: (ModelKind?)settings.Value(r, nameof(ModelOptions.Kind)),
                Dataset: (settings.Value(r, nameof(DataOptions.Dataset)) as DatasetInfo)?.Name,
                Resume: r.GetValue(resume),
                Explicitly: o => settings.Apply(r, o),
                StemChosen: settings.Value(r, nameof(ModelOptions.Stem)) is not null,
                EpochsChosen: settings.Value(r, nameof(TrainerOptions.MaxEpochs)) is not null,
                Flags: new ReferenceFlags(
                    r.IsExplicit(cosine) || r.IsExplicit(linear) ? (r.GetValue(cosine), r.GetValue(linear)) : null,
                    r.GetValue(fp16), r.GetValue(gpus), settings.Spelling(r, nameof(DataOptions.BatchSize)) == "--batch_size"),
                Output: r.GetValue(output),
                Overwrite: r.GetValue(overwrite),
                LinearEval: r.GetValue(linearEval) is { } mode ? SettingValues.Parse<FeatureMode>(mode, "LinearEval") : null,
                Evaluation: e => evaluation.Apply(r, e));
            var start = PretrainSetup.Start(request, group);
            foreach (var line in start.Lines) Console.WriteLine(line);
            return Train(start.Options, start.Run, start.Checkpoint, start.Evaluation, group);
        }
    }

    /// <summary>Runs the trainer with a progress display (rank 0's); Ctrl-C or SIGTERM stops it after the current step, with a checkpoint.</summary>
    private static int Train(PretrainOptions options, RunFolder run, TrainingCheckpoint? checkpoint, LinearEvalOptions? evaluation, IProcessGroup group)
    {
        using var signals = new StopSignals(group.Rank == 0 ? m => Console.Error.WriteLine($"aavae: {m}") : null);
        var console = new ConsoleObserver();
        ITrainingObserver observer = group.Rank == 0 ? console : new SilentObserver();
        Pretrainer trainer;
        try
        {
            // A picture folder's first pass decodes every picture here: under a bar of its own on a terminal.
            Pretrainer Build() => new(options, run, observer, checkpoint, group: group, setupStop: signals.Token, evaluation: evaluation);
            trainer = group.Rank == 0 ? console.Show("setting up", Build) : Build();
        }
        catch (OperationCanceledException) when (signals.Token.IsCancellationRequested)
        {
            if (group.Rank == 0) Console.WriteLine("interrupted before training started; the pictures decoded so far are kept in the cache for the next run");
            return Interrupted;
        }
        using var owned = trainer;
        using var stalled = new StalledStepWatch(() => trainer.Position.GlobalStep, Console.Error.WriteLine);
        signals.Requested += stalled.StopRequested;
        if (group.Rank != 0) return trainer.Run(signals.Token).Interrupted ? Interrupted : 0;
        Console.WriteLine($"device {trainer.Device}, {trainer.BatchesPerEpoch} steps an epoch{(group.Size > 1 ? $", {trainer.Parallel!.Describe()}" : "")}");
        var result = console.Show("pre-training", () => trainer.Run(signals.Token));
        Console.WriteLine(result.Interrupted
            ? $"interrupted; resume with: aavae pretrain --resume {run.Path}"
            : $"done: {run.Path} (checkpoint {run.LastCheckpoint})");
        if (result.Interrupted) return Interrupted;
        if (evaluation is not null)
        {
            var evaluating = LinearEvalCommand.Observer(evaluation);
            var (scored, path) = evaluating.Show("linear evaluation", () => trainer.LinearEvaluation(evaluation, evaluating));
            Console.WriteLine(scored.Summary());
            Console.WriteLine($"wrote {path}");
        }
        return 0;
    }
}

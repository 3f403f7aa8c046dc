using Aavae.Checkpoints;
using Aavae.Configuration;
using Aavae.Data;
using Aavae.Distributed;
using Aavae.Evaluation;
using Aavae.Models;
using Aavae.Runs;
using Aavae.Runtime;
using Aavae.Options;

namespace Aavae.Training;

/// <summary>A run as a front end asks for it, before the library settles it (<see cref="PretrainSetup.Start"/>).</summary>
/// <param name="Preset">Null: <see cref="Presets.Default"/>, and the start says it was the default.</param>
/// <param name="Kind">Null: the preset's (or the resumed run's) own.</param>
/// <param name="Dataset">Null: the preset's (or the resumed run's) own.</param>
/// <param name="Resume">A run folder or checkpoint to continue (<c>--resume</c>), or null for a new run.</param>
/// <param name="Explicitly">The caller's own settings, laid over the rest.</param>
/// <param name="StemChosen">The caller chose the stem (a picture folder's otherwise follows its input size).</param>
/// <param name="EpochsChosen">The caller chose max_epochs; otherwise a time budget trains as many epochs as it allows.</param>
/// <param name="LinearEval">Run linear evaluation with these features when training ends; null: none.</param>
/// <param name="Evaluation">The caller's own linear-evaluation settings, laid over the run's.</param>
public sealed record PretrainRequest(
    string? Preset = null,
    ModelKind? Kind = null,
    string? Dataset = null,
    string? Resume = null,
    Func<PretrainOptions, PretrainOptions>? Explicitly = null,
    bool StemChosen = false,
    bool EpochsChosen = false,
    ReferenceFlags? Flags = null,
    string? Output = null,
    bool Overwrite = false,
    FeatureMode? LinearEval = null,
    Func<LinearEvalOptions, LinearEvalOptions>? Evaluation = null);

/// <summary>A run settled and its folder made: what to train, where, and the lines that say so (rank 0's; empty on the others).</summary>
public sealed record PretrainStart(PretrainOptions Options, RunFolder Run, TrainingCheckpoint? Checkpoint, LinearEvalOptions? Evaluation, IReadOnlyList<string> Lines);

/// <summary>
/// Settles a run's settings and folder in one place, so that the command line and a .NET program
/// get the same run. Settings take precedence in this order: what the caller set explicitly; the
/// data set's image size and stem; the model kind's denoising and kl_coeff; the preset (or, when
/// resuming, the run's own configuration).
/// </summary>
public static class PretrainSetup
{
    /// <summary>The settings a new run takes from its data set unless typed: the stem and the image size.</summary>
    public static IReadOnlyList<string> DatasetDecides { get; } = [nameof(ModelOptions.Stem), nameof(ModelOptions.InputHeight)];

    /// <param name="preset">A name of <see cref="Presets.All"/> (ignored when resuming).</param>
    /// <param name="kind">Null: the preset's (or the resumed run's) own.</param>
    /// <param name="dataset">Null: the preset's (or the resumed run's) own.</param>
    /// <param name="explicitly">The caller's own settings, laid over the rest.</param>
    /// <param name="stemChosen">The caller chose the stem (a picture folder's otherwise follows its input size).</param>
    /// <param name="epochsChosen">The caller chose max_epochs; otherwise a new run with a time budget trains as many epochs as the budget allows.</param>
    public static PretrainOptions Resolve(string preset, ModelKind? kind = null, string? dataset = null, TrainingCheckpoint? resume = null,
        Func<PretrainOptions, PretrainOptions>? explicitly = null, bool stemChosen = false, bool epochsChosen = false)
    {
        var o = resume?.Options ?? Presets.For(preset, kind);
        if (resume is not null)
        {
            if (kind is ModelKind k) o = Presets.WithKind(o, k);
            // A step cap belongs to the session that set it, unless a time budget planned the run's steps: those, and the schedule fitted to them, stay.
            if (o.Trainer.Plan is null) o = o with { Trainer = o.Trainer with { MaxSteps = null } };
        }
        var info = dataset is null ? o.Data.Dataset : DatasetInfo.Get(dataset);
        o = o with { Data = o.Data with { Dataset = info } };
        if (resume is null) o = o with { Model = o.Model with { InputHeight = info.InputHeight, Stem = info.Stem } };
        if (explicitly is not null)
        {
            var before = o.Trainer;
            o = explicitly(o);
            // A length typed on resuming decides the run's end afresh: a time budget plans again from there.
            if (o.Trainer.Plan is not null && (o.Trainer.MaxEpochs, o.Trainer.MaxSteps, o.Trainer.MaxTime) != (before.MaxEpochs, before.MaxSteps, before.MaxTime))
                o = o with { Trainer = o.Trainer with { Plan = null } };
        }
        if (resume is null && o.Trainer.MaxTime is not null && !epochsChosen) o = o with { Trainer = o.Trainer with { MaxEpochs = TrainerOptions.AsTimeAllows } };
        // A picture folder's stem follows the input size typed for it, unless the stem was chosen too.
        if (resume is null && info.IsFolder && !stemChosen && o.Model.InputHeight != info.InputHeight)
            o = o with { Model = o.Model with { Stem = DatasetInfo.StemFor(o.Model.InputHeight) } };
        o.Validate();
        if (resume is not null && resume.Options.Model != o.Model)
            throw new OptionException("Resume", $"{resume.Path}: the checkpoint holds {Describe(resume.Options)}, the options ask for {Describe(o)}");
        return o;
    }

    /// <summary>
    /// Settles <paramref name="request"/> for this process of <paramref name="group"/>: the options
    /// (precision made concrete on this process's device), the linear evaluation, and the run folder,
    /// which rank 0 names and creates and the others share. Refusals come before any folder is touched.
    /// </summary>
    public static PretrainStart Start(PretrainRequest request, IProcessGroup group)
    {
        var checkpoint = request.Resume is null ? null : TrainingCheckpoint.Read(RunFolder.ResolveCheckpoint(request.Resume));
        string preset = request.Preset ?? Presets.Default;
        var flags = request.Flags ?? new ReferenceFlags();
        var o = Resolve(preset, request.Kind, request.Dataset, checkpoint, o => flags.Apply(request.Explicitly?.Invoke(o) ?? o, group.Size),
            request.StemChosen, request.EpochsChosen);
        var device = o.Trainer.Device.ForProcess(group.LocalRank, group.LocalSize).Resolve();
        bool bf16Faster = group.AllComputeBf16Faster();
        o = OnDevice(o, device, bf16Faster);
        Pretrainer.CheckPrecision(o, device);
        var evaluation = request.LinearEval is FeatureMode mode ? Pretrainer.LinearEvaluationOptions(o, mode) : null;
        if (evaluation is not null && request.Evaluation is not null) evaluation = request.Evaluation(evaluation);
        OptionException.Check(evaluation is null || !o.Data.Dataset.IsFolder, "LinearEval",
            "needs labels, and a picture folder for pre-training has none: run linear-eval --dataset folder on a folder of labelled pictures afterwards");
        var folder = group.Rank == 0 ? Folder(o, checkpoint, request.Output, request.Overwrite).Path : null;
        var run = new RunFolder(group.BroadcastString(folder));
        if (group.Rank != 0) return new PretrainStart(o, run, checkpoint, evaluation, []);

        var position = checkpoint?.Position;
        var lines = new List<string>
        {
            checkpoint is null ? $"pretrain: new run, preset {preset}{(request.Preset is null ? " (the default; --preset names another)" : "")}"
            : checkpoint.Format != CheckpointFormat.Lightning ? $"pretrain: resuming at epoch {position!.Epoch}, batch {position.Batch} (step {position.GlobalStep})"
            : $"pretrain: continuing the reference's run {request.Resume} at epoch {position!.Epoch} (step {position.GlobalStep})",
        };
        var baseline = OnDevice(checkpoint?.Options ?? Resolve(preset, request.Kind, request.Dataset), device, bf16Faster);
        lines.AddRange(Summary(o, baseline, checkpoint is null ? preset : "the run", run));
        if (flags.Note(o, group.Size) is { } note) lines.Add(note);
        return new PretrainStart(o, run, checkpoint, evaluation, lines);
    }

    /// <summary>The options with "auto" precision made concrete: bfloat16 on CPUs only where it outruns float32 on every process.</summary>
    private static PretrainOptions OnDevice(PretrainOptions o, TorchSharp.torch.Device device, bool bf16Faster) =>
        o with { Trainer = o.Trainer with { Precision = o.Trainer.Precision.On(device.type, bf16Faster) } };

    /// <summary>
    /// Where the run writes: the resumed run's own folder (or <paramref name="output"/>); for a new
    /// run, or one continued from the reference's checkpoint, <paramref name="output"/> or the next
    /// free <c>runs/&lt;model&gt;-&lt;dataset&gt;-N</c>, refused when it holds another run unless <paramref name="overwrite"/>.
    /// </summary>
    public static RunFolder Folder(PretrainOptions options, TrainingCheckpoint? resume, string? output = null, bool overwrite = false)
    {
        OptionException.Check(output is null || !string.IsNullOrWhiteSpace(output), "Output", "must name a folder, got an empty string");
        OptionException.Check(output is null || !File.Exists(output), "Output", $"{output} is a file; expected a run folder");
        if (resume is not null && resume.Format != CheckpointFormat.Lightning)
        {
            var own = RunFolder.Containing(resume.Path);
            // Continuing into another folder: it must not hold some other run's files.
            return output is null || SameFolder(output, own) ? new RunFolder(own) : RunFolder.CreateNew(output, overwrite);
        }
        var folder = output ?? RunFolder.NextFree("runs", $"{options.Model.Kind.ToString().ToLowerInvariant()}-{options.Data.Dataset.Name}");
        return RunFolder.CreateNew(folder, overwrite);
    }

    private static bool SameFolder(string a, string b) =>
        string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(a)), Path.TrimEndingDirectorySeparator(Path.GetFullPath(b)),
            OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);

    public static string Describe(PretrainOptions o) =>
        $"{o.Model.Encoder}/{o.Model.DecoderName} ({o.Model.Kind.ToString().ToLowerInvariant()}, width {o.Model.WidthLabel}, latent {o.Model.LatentDim}, {o.Model.InputHeight}px, {o.Model.Stem.Name()} stem)";

    /// <summary>
    /// A run's configuration in a few lines, for a front end to print at its start: the model, the
    /// data, the settings that differ from <paramref name="baseline"/> (the preset, or the resumed
    /// run's own) by flag, and the run folder. The whole configuration is the run's config.json.
    /// </summary>
    public static IReadOnlyList<string> Summary(PretrainOptions options, PretrainOptions baseline, string baselineName, RunFolder run)
    {
        bool asTimeAllows = options.Trainer.MaxEpochs == TrainerOptions.AsTimeAllows;
        var changed = options.Differences(baseline).Select(d => $"{d.Flag} {d.Value}").ToList();
        var data = options.Data;
        return
        [
            $"model: {Describe(options)}, {SettingValues.Format(options.Trainer.Precision)}",
            $"data: {data.Dataset.Name}{(data.DataDir is null ? "" : $" from {data.DataDir}")}, batch {data.BatchSize}, "
                + (asTimeAllows ? $"as many epochs as --max-time {SettingValues.Format(options.Trainer.MaxTime)} allows" : $"{options.Trainer.MaxEpochs} epochs"),
            changed.Count == 0 ? $"settings: {baselineName}'s" : $"settings: {baselineName}'s, except {string.Join(", ", changed)}",
            $"run folder: {run.Path} (the whole configuration: {run.Config})",
        ];
    }
}

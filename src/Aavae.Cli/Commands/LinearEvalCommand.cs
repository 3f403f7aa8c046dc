using System.CommandLine;
using Aavae.Evaluation;
using Aavae.Jobs;
using Aavae.Models;
using Aavae.Runtime;

namespace Aavae.Cli.Commands;

/// <summary><c>aavae linear-eval</c>: the linear-evaluation protocol (the reference's src/linear_eval.py) on a frozen encoder.</summary>
internal static class LinearEvalCommand
{
    public static Command Create()
    {
        var source = new SettingOptions(typeof(EncoderSource));
        var settings = new SettingOptions(typeof(LinearEvalOptions));
        // The random baseline's architecture.
        var model = new SettingOptions(typeof(ModelOptions), include: s => s.Name is nameof(ModelOptions.Encoder) or nameof(ModelOptions.Width));
        var baseline = CliOptions.Create<string?>("--baseline", "instead of a checkpoint: random (a randomly initialised encoder shaped by --encoder / --width) or pixels (logistic regression on raw pixels)", null);
        var output = CliOptions.Create<string?>("--output", "result JSON (default: linear_eval_<mode>.json in the checkpoint's run folder)", null);
        output.Aliases.Add("--out");
        var command = new Command("linear-eval", "Train a linear classifier on the frozen encoder's features and report top-1 test accuracy");
        source.AddTo(command);
        settings.AddTo(command);
        model.AddTo(command);
        command.Options.Add(baseline);
        command.Options.Add(output);
        command.SetAction(r =>
        {
            TorchRuntime.EnsureLoaded();
            var from = source.Apply(r, new EncoderSource());
            var options = settings.Apply(r, new LinearEvalOptions());
            var observer = Observer(options);
            var (result, path) = observer.Show("linear evaluation", () => r.GetValue(baseline) is { } which
                ? LinearEvalJob.Baseline(which, from, model.Apply(r, new ModelOptions()), options, r.GetValue(output), observer)
                : LinearEvalJob.Checkpoint(from, options, r.GetValue(output), observer, ConsoleObserver.Note));
            Console.WriteLine(result.Summary());
            Console.WriteLine($"wrote {path}");
            return 0;
        });
        return command;
    }

    /// <summary>A line every tenth of the epochs.</summary>
    public static ConsoleObserver Observer(LinearEvalOptions options) => new(epochLineEvery: Math.Max(1, options.Epochs / 10));
}

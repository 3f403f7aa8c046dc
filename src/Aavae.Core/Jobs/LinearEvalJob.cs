using Aavae.Data;
using Aavae.Evaluation;
using Aavae.Models;
using Aavae.Progress;
using Aavae.Training;
using Aavae.Runs;

namespace Aavae.Jobs;

/// <summary>
/// <c>aavae linear-eval</c> as one call: a checkpoint's frozen encoder (or a baseline) judged by the
/// linear-evaluation protocol, its result written as JSON with every setting that produced it.
/// </summary>
public static class LinearEvalJob
{
    /// <summary>The checkpoint's encoder on its data set; the result goes to <paramref name="output"/>, by default next to the run's checkpoints.</summary>
    /// <param name="notes">Hears what the encoder's checkpoint held that it ignored, and any rerouted convolution; null: the observer.</param>
    public static (LinearEvalResult Result, string Path) Checkpoint(EncoderSource source, LinearEvalOptions options, string? output, ITrainingObserver observer,
        Action<string>? notes = null)
    {
        // The feature mode may come from the data set: --standardize is checked against it once that is known.
        (options with { Standardize = null }).Validate();
        var (weights, data) = source.Load();
        using (weights)
        using (data)
        {
            observer.OnMessage(EncoderSource.Describe(weights, data));
            options = options.For(data.Info);
            var path = output ?? new RunFolder(RunFolder.Containing(weights.Path)).LinearEvalResult(options.Mode.Name(), options.Test);
            RefuseExisting(path);
            using var encoder = source.BuildEncoder(weights, notes ?? observer.OnMessage);
            var result = new LinearEval(options, observer).Run(encoder, data, source.Device.Resolve());
            result.Save(path, weights.Path, options);
            if (output is null) ReportJob.Refresh(RunFolder.Containing(weights.Path), observer.OnMessage);
            return (result, path);
        }
    }

    /// <summary>
    /// The floors a learned encoder must clear: <paramref name="which"/> is <c>random</c> (the same
    /// architecture untrained, shaped by <paramref name="model"/>) or <c>pixels</c> (logistic regression on raw pixels).
    /// </summary>
    public static (LinearEvalResult Result, string Path) Baseline(string which, EncoderSource source, ModelOptions model, LinearEvalOptions options, string? output, ITrainingObserver observer)
    {
        if (source.Checkpoint is not null) throw new ArgumentException("--baseline and --checkpoint exclude each other");
        (options with { Standardize = null }).Validate();
        using var data = DataModule.Load(source.Dataset ?? DatasetInfo.FashionMnist.Name, source.DataDir);
        options = options.For(data.Info);
        var path = output ?? $"linear_eval_{which}_{options.Mode.Name()}.json";
        RefuseExisting(path);
        using var baseline = Baselines.Create(which, data.Info, model.Encoder, model.Width, options.Seed);
        observer.OnMessage($"baseline: {baseline.Description}");
        var result = new LinearEval(options, observer).Run(baseline.Features, baseline.FeatureDim, data, source.Device.Resolve());
        result.Save(path, $"baseline:{which}", options);
        return (result, path);
    }

    // Before the work, not only at the end: an hour of evaluation must not end in a refusal.
    private static void RefuseExisting(string path)
    {
        if (File.Exists(path)) throw new ArgumentException($"--output {path} already exists; pass another --output");
    }
}

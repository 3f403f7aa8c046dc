using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Aavae.Data;
using Aavae.Evaluation;
using Aavae.IO;
using Aavae.Models;
using Aavae.Runtime;
using Aavae.Training;
using static TorchSharp.torch;

namespace Aavae.Cli.Commands;

/// <summary><c>aavae linear-eval</c>: the linear-evaluation protocol (the reference's src/linear_eval.py) on a frozen encoder.</summary>
internal static class LinearEvalCommand
{
    public static Command Create()
    {
        var source = new CheckpointOptionSet(required: false);
        var baseline = CliOptions.Create<string?>("--baseline", "instead of a checkpoint: random (a randomly initialised encoder shaped by --encoder / --width) or pixels (logistic regression on raw pixels)", null);
        var model = new ModelOptionSet();
        var features = CliOptions.Create<string?>("--features", "augmented (a fresh training view every epoch, shuffled), cached (encode once through the evaluation transform, shuffled: fast on CPUs) or unshuffled (cached, in the split's fixed order); default: the reference's protocol for the data set, unshuffled for stl10 and augmented otherwise", null);
        var epochs = CliOptions.Create("--epochs", "training epochs of the linear layer (the reference's --max_epochs)", 90);
        epochs.Aliases.Add("--max-epochs");
        epochs.Aliases.Add("--max_epochs");
        var defaults = new LinearEvalOptions();
        var weightDecay = CliOptions.Create("--weight-decay", "SGD weight decay", defaults.WeightDecay);
        var momentum = CliOptions.Create("--momentum", "SGD momentum", defaults.Momentum);
        var nesterov = CliOptions.Create("--nesterov", "Nesterov momentum (true or false)", defaults.Nesterov);
        var lr = CliOptions.Create<double?>("--learning-rate", "SGD learning rate (default 0.1 x batch / 256; the reference's linear_eval.py computes 0.1 x int(batch / 256), which is 0 below batch 256, so this keeps the linear scaling)", null);
        var seed = CliOptions.Create("--seed", "seed for the linear layer, data order and augmentation", 0);
        var limitTrain = CliOptions.Create<int?>("--limit-train-batches", "train on at most N batches an epoch", null);
        var limitEval = CliOptions.Create<int?>("--limit-eval-batches", "validate and test on at most N batches", null);
        var readTest = ReadTestOption();
        var standardize = CliOptions.Create<bool?>("--standardize", "standardise cached features with the training split's mean and standard deviation (an affine map the linear layer could absorb: it changes how fast SGD converges, not which classifiers exist); default: on for cached, off for the reference's augmented and unshuffled protocols", null);
        var threads = CliOptions.Create<int?>("--threads", "libtorch threads, fixed (default: all cores, fewer while other processes keep some busy)", null);
        var output = CliOptions.Create<string?>("--output", "result JSON (default: linear_eval_<mode>.json in the checkpoint's run folder)", null);
        output.Aliases.Add("--out");
        var command = new Command("linear-eval", "Train a linear classifier on the frozen encoder's features and report top-1 test accuracy");
        source.AddTo(command);
        foreach (var o in new Option[] { features, epochs, lr, weightDecay, momentum, nesterov, seed, limitTrain, limitEval, readTest, standardize, threads, output, baseline }) command.Options.Add(o);
        foreach (var o in new Option[] { model.Encoder, model.Width }) command.Options.Add(o);
        command.SetAction(r =>
        {
            TorchRuntime.EnsureLoaded();
            var options = new LinearEvalOptions
            {
                Epochs = r.GetValue(epochs),
                BatchSize = r.GetValue(source.BatchSize),
                LearningRate = r.GetValue(lr),
                WeightDecay = r.GetValue(weightDecay),
                Momentum = r.GetValue(momentum),
                Nesterov = r.GetValue(nesterov),
                Seed = r.GetValue(seed),
                LimitTrainBatches = r.GetValue(limitTrain),
                LimitEvalBatches = r.GetValue(limitEval),
                Test = r.GetValue(readTest),
                Standardize = r.GetValue(standardize),
                Threads = r.GetValue(threads),
            };
            // The feature mode may come from the data set: --standardize is checked against it in the run.
            (options with { Standardize = null }).Validate();
            var device = DeviceChoice.Resolve(r.GetValue(source.Device)!);
            LinearEvalOptions For(DatasetInfo dataset) =>
                options with { Features = r.GetValue(features) is { } mode ? FeatureModes.Parse(mode) : FeatureModes.DefaultFor(dataset) };
            if (r.GetValue(baseline) is { } which)
            {
                if (r.GetValue(source.Checkpoint) is not null) throw new ArgumentException("--baseline and --checkpoint exclude each other");
                return RunBaseline(which, r, source, model, For(DatasetInfo.Get(r.GetValue(source.Dataset) ?? "fashion-mnist")), device, r.GetValue(output));
            }
            var (weights, data) = source.Load(r);
            using (weights)
            using (data)
            {
                options = For(data.Info);
                var outPath = r.GetValue(output) ?? DefaultOutput(weights.Path, options);
                if (File.Exists(outPath)) throw new ArgumentException($"--output {outPath} already exists; pass another --output");
                using var encoder = source.BuildEncoder(weights, device, r);
                var result = Run(encoder, data, options, device);
                Save(outPath, result, weights.Path, data.Info.Name, options);
                Console.WriteLine($"wrote {outPath}");
            }
            return 0;
        });
        return command;
    }

    /// <summary>Shared by <c>linear-eval</c> and <c>pretrain --linear-eval</c>.</summary>
    public static Option<bool> ReadTestOption() =>
        CliOptions.Create("--read-test", "read the test split (false: validation accuracy only, while choosing settings, so that the test split is read once for each reported result)", true);

    /// <summary>The floors a learned encoder must clear: the same architecture untrained, and raw pixels.</summary>
    private static int RunBaseline(string which, ParseResult r, CheckpointOptionSet source, ModelOptionSet model, LinearEvalOptions options, Device device, string? output)
    {
        var name = r.GetValue(source.Dataset) ?? "fashion-mnist";
        using var data = DataModule.Load(name, r.GetValue(source.DataDir));
        var outPath = output ?? $"linear_eval_{which}_{options.Features.Name()}.json";
        if (File.Exists(outPath)) throw new ArgumentException($"--output {outPath} already exists; pass another --output");
        using var baseline = Baselines.Create(which, data.Info, r.GetValue(model.Encoder)!, r.GetValue(model.Width), options.Seed);
        Console.WriteLine($"baseline: {baseline.Description}");
        var result = Run(baseline.Features, baseline.FeatureDim, data, options, device);
        Save(outPath, result, $"baseline:{which}", data.Info.Name, options);
        Console.WriteLine($"wrote {outPath}");
        return 0;
    }

    /// <summary>Next to the run's other results when the checkpoint sits in a run folder.</summary>
    public static string DefaultOutput(string checkpoint, LinearEvalOptions options) =>
        new RunFolder(RunFolder.Containing(checkpoint)).LinearEvalResult(options.Features.Name(), options.Test);

    public static LinearEvalResult Run(ResNetEncoder encoder, DataModule data, LinearEvalOptions options, Device device) =>
        Run(encoder, encoder.FeatureDim, data, options, device);

    public static LinearEvalResult Run(nn.Module<Tensor, Tensor> encoder, int featureDim, DataModule data, LinearEvalOptions options, Device device)
    {
        Console.WriteLine($"linear evaluation, {options.Features.Name()} features ({options.Features.Describe()}): {options.Epochs} epochs, batch {options.BatchSize}, SGD lr {options.EffectiveLearningRate:G3} (Nesterov, cosine), on {device}");
        var observer = new ConsoleObserver(epochLineEvery: Math.Max(1, options.Epochs / 10));
        var result = observer.Show("linear evaluation", () => new LinearEval(options, observer).Run(encoder, featureDim, data, device));
        Console.WriteLine(result.TestAccuracy is { } test
            ? string.Create(CultureInfo.InvariantCulture, $"linear evaluation ({result.Mode} features) on {data.Info.Name}: top-1 test accuracy {100 * test:F2}% ({result.TestImages} test images; best val {100 * result.ValAccuracy.Max():F2}%; {result.Seconds:F0} s)")
            : string.Create(CultureInfo.InvariantCulture, $"linear evaluation ({result.Mode} features) on {data.Info.Name}: top-1 val accuracy {100 * result.ValAccuracy[^1]:F2}% after the last epoch (best {100 * result.ValAccuracy.Max():F2}%; test split not read; {result.Seconds:F0} s)"));
        return result;
    }

    /// <summary>The result with what produced it: the checkpoint, the data set and every setting of the protocol.</summary>
    public static void Save(string path, LinearEvalResult result, string checkpoint, string dataset, LinearEvalOptions options)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(new { checkpoint, dataset, options, result }, new JsonSerializerOptions
        {
            WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        });
        AtomicFile.Write(path, s => s.Write(json));
    }
}

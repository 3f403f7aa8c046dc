using System.CommandLine;
using Aavae.Checkpoints;
using Aavae.Data;
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
        var model = new ModelOptionSet();
        var preset = CliOptions.Create("--preset", "starting values: paper (the paper's CIFAR-10 run: AAVAE, resnet50/decoder50, batch 256, lr 2.5e-4, warm-up 10, val_samples 16, 3,200 epochs; for GPUs), reference (vae.py's argparse defaults: a VAE, batch 128, lr 1e-3, warm-up 20) or cpu-small (about 15 minutes on a 2-core CPU)", "paper");
        var dataset = CliOptions.Create("--dataset", "fashion-mnist (shipped), cifar10, stl10 or imagenet", "fashion-mnist");
        var dataDir = CliOptions.Create<string?>("--data-dir", "folder holding the data set (default: the shipped Fashion-MNIST)", null);
        dataDir.Aliases.Add("--data_path");
        var denoising = CliOptions.Create("--denoising", "feed the encoder the SimCLR view (on for --model aavae)", false);
        var klCoeff = CliOptions.Create("--kl-coeff", "weight of the KL term (0 for aavae, 0.1 for vae)", 0.1);
        var logScale = CliOptions.Create("--log-scale", "initial log-variance of p(x|z)", 0.0);
        var learnScale = CliOptions.Create("--learn-scale", "1 to train log_scale, 0 to keep it fixed", 0);
        var valSamples = CliOptions.Create("--val-samples", "posterior samples per image in validation", 1);
        var optimizer = CliOptions.Create("--optimizer", "adam or lamb", "adam");
        var lr = CliOptions.Create("--learning-rate", "base learning rate", 1e-3);
        var weightDecay = CliOptions.Create("--weight-decay", "weight decay", 0.0);
        var excludeBnBias = CliOptions.Create("--exclude-bn-bias", "no weight decay (nor LAMB adaptation) for biases and BatchNorm", false);
        var warmup = CliOptions.Create("--warmup-epochs", "epochs of linear learning-rate warm-up", 20);
        var maxEpochs = CliOptions.Create("--max-epochs", "epochs to train", 3200);
        var cosine = CliOptions.Create("--cosine-decay", "1: cosine decay to 0 after warm-up", 0);
        var linear = CliOptions.Create("--linear-decay", "1: linear decay to 0 after warm-up", 0);
        var batchSize = CliOptions.Create("--batch-size", "images per step", 128);
        var seed = CliOptions.Create("--seed", "seed for initialisation, data order and augmentation", 0);
        var onlineFt = CliOptions.Create("--online-ft", "train a linear probe on detached features during pre-training", false);
        var knnEvery = CliOptions.Create("--knn-every", "run the k-NN monitor every N epochs and after the last (0: off)", 10);
        var device = CliOptions.Device();
        var gpus = CliOptions.Create<int?>("--gpus", "number of GPUs (Lightning's flag): 0 is --device cpu, 1 is --device cuda", null);
        var output = CliOptions.Create<string?>("--output", "run folder (default: runs/<model>-<dataset>-N)", null);
        var resume = CliOptions.Create<string?>("--resume", "continue the run in this folder, or from this checkpoint: one of this project's, or a pre-training .ckpt the reference wrote (its --ckpt_path: weights, optimizer, schedule and epoch; the run continues in a new --output folder)", null);
        resume.Aliases.Add("--ckpt_path");
        var overwrite = CliOptions.Create("--overwrite", "replace the run already in --output", false);
        var checkpointEvery = CliOptions.Create("--checkpoint-every", "keep a numbered checkpoint every N epochs (last.ckpt is always kept)", 200);
        var limitTrain = CliOptions.Create<int?>("--limit-train-batches", "train on at most N batches an epoch", null);
        var limitVal = CliOptions.Create<int?>("--limit-val-batches", "validate on at most N batches (0: no validation)", null);
        var maxSteps = CliOptions.Create<long?>("--max-steps", "stop after N optimizer steps", null);
        var initFrom = CliOptions.Create<string?>("--init-from", "start a new run from these weights alone (e.g. a published Lightning .ckpt) instead of a random initialisation; the optimizer and schedule start afresh", null);
        var linearEval = CliOptions.Create<string?>("--linear-eval", "when training ends, run linear evaluation with augmented, cached or unshuffled features (see linear-eval --help)", null);

        var command = new Command("pretrain", "Pre-train an AAVAE (or the VAE / AE baselines) and keep checkpoints, metrics and pictures");
        model.AddTo(command);
        foreach (var o in new Option[]
                 {
                     preset, dataset, dataDir, denoising, klCoeff, logScale, learnScale, valSamples, optimizer, lr, weightDecay, excludeBnBias,
                     warmup, maxEpochs, cosine, linear, batchSize, seed, onlineFt, knnEvery, device, gpus, output, resume, overwrite,
                     checkpointEvery, limitTrain, limitVal, maxSteps, linearEval, initFrom,
                 })
            command.Options.Add(o);

        command.SetAction(r =>
        {
            TorchRuntime.EnsureLoaded();
            string? resumeFrom = r.GetValue(resume);
            TrainingCheckpoint? checkpoint = resumeFrom is null ? null : TrainingCheckpoint.Read(RunFolder.ResolveCheckpoint(resumeFrom));

            // Starting values: the resumed run's own configuration, or a preset.
            ModelKind? kind = r.IsExplicit(model.Model) ? ModelOptionSet.ParseKind(r.GetValue(model.Model)!) : null;
            var o = checkpoint?.Options ?? Presets.For(r.GetValue(preset)!, kind);
            T Pick<T>(Option<T> opt, T current) => r.IsExplicit(opt) ? r.GetValue(opt)! : current;

            if (checkpoint is not null && kind is ModelKind k) o = Presets.WithKind(o, k);
            var name = Pick(dataset, o.Dataset);
            var info = DatasetInfo.Get(name);
            if (checkpoint is null) o = o with { Model = o.Model with { InputHeight = info.InputHeight, Stem = info.Stem } };
            var decay = o.Decay;
            if (r.IsExplicit(cosine) || r.IsExplicit(linear))
                decay = r.GetValue(cosine) != 0 ? DecayKind.Cosine : r.GetValue(linear) != 0 ? DecayKind.Linear : DecayKind.None;
            var deviceChoice = Pick(device, o.Device);
            if (r.GetValue(gpus) is int n)
                deviceChoice = n switch
                {
                    0 => "cpu",
                    1 => "cuda",
                    < 0 => throw new ArgumentException($"--gpus must be >= 0, got {n}"),
                    _ => throw new ArgumentException($"--gpus {n}: data-parallel training over several devices is not implemented yet; use --gpus 1"),
                };

            o = o with
            {
                Model = model.Apply(r, o.Model) with
                {
                    LogScale = Pick(logScale, o.Model.LogScale),
                    LearnScale = r.IsExplicit(learnScale) ? r.GetValue(learnScale) != 0 : o.Model.LearnScale,
                },
                Dataset = info.Name,
                DataDir = Pick(dataDir, o.DataDir),
                Denoising = Pick(denoising, o.Denoising),
                KlCoeff = Pick(klCoeff, o.KlCoeff),
                ValSamples = Pick(valSamples, o.ValSamples),
                Optimizer = Pick(optimizer, o.Optimizer).ToLowerInvariant(),
                LearningRate = Pick(lr, o.LearningRate),
                WeightDecay = Pick(weightDecay, o.WeightDecay),
                ExcludeBnBias = Pick(excludeBnBias, o.ExcludeBnBias),
                WarmupEpochs = Pick(warmup, o.WarmupEpochs),
                MaxEpochs = Pick(maxEpochs, o.MaxEpochs),
                Decay = decay,
                BatchSize = Pick(batchSize, o.BatchSize),
                Seed = Pick(seed, o.Seed),
                OnlineFt = Pick(onlineFt, o.OnlineFt),
                KnnEvery = Pick(knnEvery, o.KnnEvery),
                Device = deviceChoice,
                CheckpointEvery = Pick(checkpointEvery, o.CheckpointEvery),
                LimitTrainBatches = Pick(limitTrain, o.LimitTrainBatches),
                LimitValBatches = Pick(limitVal, o.LimitValBatches),
                MaxSteps = Pick(maxSteps, checkpoint is null ? o.MaxSteps : null),
                InitFrom = Pick(initFrom, o.InitFrom),
            };
            o.Validate();
            DeviceChoice.Resolve(o.Device);
            var evalMode = r.GetValue(linearEval) is { } mode ? FeatureModes.Parse(mode) : (FeatureMode?)null;

            if (checkpoint is not null && checkpoint.Options.Model != o.Model)
                throw new ArgumentException($"--resume {resumeFrom}: the checkpoint holds {Describe(checkpoint.Options)}, the options ask for {Describe(o)}");
            RunFolder run;
            bool continuesOwnRun = checkpoint is not null && checkpoint.Format != LightningRun.Format;
            if (continuesOwnRun)
            {
                var folder = r.GetValue(output) ?? (Directory.Exists(resumeFrom) ? resumeFrom! : Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(resumeFrom!)))!);
                run = new RunFolder(folder);
            }
            else
            {
                var folder = r.GetValue(output) ?? RunFolder.NextFree("runs", $"{o.Model.Kind.ToString().ToLowerInvariant()}-{o.Dataset}");
                run = RunFolder.CreateNew(folder, r.GetValue(overwrite));
            }

            Console.WriteLine(checkpoint is null ? $"pretrain: new run in {run.Path}"
                : continuesOwnRun ? $"pretrain: resuming {run.Path} at epoch {checkpoint.Position.Epoch}, batch {checkpoint.Position.Batch} (step {checkpoint.Position.GlobalStep})"
                : $"pretrain: continuing the reference's run {resumeFrom} in {run.Path} at epoch {checkpoint.Position.Epoch} (step {checkpoint.Position.GlobalStep})");
            Console.WriteLine(o.ToJson());
            return Train(o, run, checkpoint, evalMode);
        });
        return command;
    }

    private static string Describe(PretrainOptions o) =>
        $"{o.Model.Encoder}/{o.Model.DecoderName} ({o.Model.Kind.ToString().ToLowerInvariant()}, width {o.Model.Width}, latent {o.Model.LatentDim}, {o.Model.InputHeight}px)";

    /// <summary>Runs the trainer with a progress display; Ctrl-C asks it to stop after the current step.</summary>
    public static int Train(PretrainOptions options, RunFolder run, TrainingCheckpoint? checkpoint, FeatureMode? evalMode)
    {
        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // The first Ctrl-C finishes the step and checkpoints; a second one kills the process.
            if (stop.IsCancellationRequested) return;
            e.Cancel = true;
            stop.Cancel();
            Console.Error.WriteLine("aavae: stopping after this step (Ctrl-C again to kill without a checkpoint)");
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            var observer = new ConsoleObserver();
            using var trainer = new Pretrainer(options, run, observer, checkpoint);
            Console.WriteLine($"device {trainer.Device}, {trainer.BatchesPerEpoch} steps an epoch, {options.MaxEpochs} epochs");
            var result = observer.Show("pre-training", () => trainer.Run(stop.Token));
            Console.WriteLine(result.Interrupted
                ? $"interrupted; resume with: aavae pretrain --resume {run.Path}"
                : $"done: {run.Path} (checkpoint {run.LastCheckpoint})");
            if (result.Interrupted) return Interrupted;
            if (evalMode is FeatureMode m)
            {
                var evalOptions = new LinearEvalOptions { Features = m, Seed = options.Seed, LimitTrainBatches = options.LimitTrainBatches, LimitEvalBatches = options.LimitValBatches is > 0 ? options.LimitValBatches : null };
                var evaluation = LinearEvalCommand.Run(trainer.Model.Encoder, trainer.Data, evalOptions, trainer.Device);
                var path = Path.Combine(run.Path, $"linear_eval_{evaluation.Mode}.json");
                LinearEvalCommand.Save(path, evaluation, run.LastCheckpoint, options.Dataset);
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

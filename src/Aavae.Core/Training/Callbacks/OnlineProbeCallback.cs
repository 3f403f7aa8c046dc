using Aavae.Augmentation;
using Aavae.Data;
using Aavae.Distributed;
using Aavae.Models;
using static TorchSharp.torch;
using Aavae.Options;

namespace Aavae.Training.Callbacks;

/// <summary>
/// The reference's OnlineFineTuner (src/callbacks/online_eval.py): after every optimizer step the
/// probe trains on a labelled batch's linear-evaluation view through the encoder (in training mode,
/// without gradient, as the callback does); after validation it is scored on the labelled validation split.
/// Under data parallelism each process trains on its shard of the batch and <paramref name="average"/>
/// averages the gradients, so the probe stays one model; the first process scores it.
/// </summary>
public sealed class OnlineProbeCallback(OnlineProbe probe, AavaeModel model, IImageSource labelled, Views views, PretrainOptions options,
    Shard shard = default, GradientBucket? average = null) : ITrainingCallback
{
    public OnlineProbe Probe => probe;

    public void OnTrainBatchEnd(TrainBatchEnd step)
    {
        var rng = SeedStreams.OnlineProbe(options.Seed, step.Step);
        int n = Math.Min(options.Data.BatchSize, labelled.Count);
        var indices = Enumerable.Range(0, n).Select(_ => (long)rng.Next(labelled.Count)).ToArray();
        // Each process's shard draws its own crops and flips.
        if (shard.Count > 1) rng = SeedStreams.OnlineProbe(options.Seed, step.Step, shard.Rank);
        var (x, labels) = views.LinearEvalTrain(labelled, shard.Count > 1 ? shard.Of(indices) : indices, rng);
        Tensor features;
        using (no_grad()) features = model.Encoder.call(x);
        var (loss, accuracy) = probe.TrainStep(features, labels.to(views.Device), average);
        step.Metrics["online_train_loss"] = loss;
        step.Metrics["online_train_acc"] = accuracy;
    }

    public void OnValidationEnd(EpochEnd epoch)
    {
        if (shard.Rank != 0) return;
        using var scope = NewDisposeScope();
        var val = epoch.ValFeatures;
        var (lossSum, correct) = probe.Evaluate(val.Features.to(views.Device), val.Labels.to(views.Device));
        epoch.Row["online_val_loss"] = lossSum / val.Count;
        epoch.Row["online_val_acc"] = (double)correct / val.Count;
    }
}

using Aavae.Augmentation;
using Aavae.Data;
using Aavae.Models;
using static TorchSharp.torch;

namespace Aavae.Training.Callbacks;

/// <summary>
/// The reference's OnlineFineTuner (src/callbacks/online_eval.py): after every optimizer step the
/// probe trains on a labelled batch's linear-evaluation view through the encoder (in training mode,
/// without gradient, as the callback does); after validation it is scored on the labelled validation split.
/// </summary>
public sealed class OnlineProbeCallback(OnlineProbe probe, AavaeModel model, IImageSource labelled, Views views, PretrainOptions options) : ITrainingCallback
{
    public OnlineProbe Probe => probe;

    public void OnTrainBatchEnd(TrainBatchEnd step)
    {
        var rng = SeedStreams.OnlineProbe(options.Seed, step.Step);
        int n = Math.Min(options.BatchSize, labelled.Count);
        var indices = Enumerable.Range(0, n).Select(_ => (long)rng.Next(labelled.Count)).ToArray();
        var (x, labels) = views.LinearEvalTrain(labelled, indices, rng);
        Tensor features;
        using (no_grad()) features = model.Encoder.call(x);
        var (loss, accuracy) = probe.TrainStep(features, labels.to(views.Device));
        step.Metrics["online_train_loss"] = loss;
        step.Metrics["online_train_acc"] = accuracy;
    }

    public void OnValidationEnd(EpochEnd epoch)
    {
        using var scope = NewDisposeScope();
        var val = epoch.ValFeatures;
        var (lossSum, correct) = probe.Evaluate(val.Features.to(views.Device), val.Labels.to(views.Device));
        epoch.Row["online_val_loss"] = lossSum / val.Count;
        epoch.Row["online_val_acc"] = (double)correct / val.Count;
    }
}

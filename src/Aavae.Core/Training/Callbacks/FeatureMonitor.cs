using Aavae.Augmentation;
using Aavae.Data;
using Aavae.Evaluation;
using Aavae.Models;
using Aavae.Progress;
using Aavae.Options;

namespace Aavae.Training.Callbacks;

/// <summary>
/// Scores the frozen encoder's features on the validation split: weighted k-NN against the training
/// split's features every <c>knn_every</c> epochs (<c>knn_acc</c>), and the linear-evaluation
/// classifier fitted on the same cached training features every <c>linear_probe_every</c> epochs
/// (<c>linear_val_acc</c>); both after the last epoch too. The training split is encoded once for both.
/// The test split is never read here: curves chosen on it would not be honest.
/// </summary>
public sealed class FeatureMonitor(AavaeModel model, DataModule data, Views views, PretrainOptions options) : ITrainingCallback
{
    public void OnValidationEnd(EpochEnd epoch)
    {
        bool knn = Due(options.Monitors.KnnEvery, epoch), probe = Due(options.Monitors.LinearProbeEvery, epoch);
        if (!knn && !probe) return;
        using var bank = FeatureExtractor.Encode(model.Encoder, data.Train, views, options.Data.BatchSize, options.Trainer.LimitTrainBatches);
        if (knn) epoch.Row["knn_acc"] = Knn.Accuracy(bank, epoch.ValFeatures, data.Info.NumClasses, options.Monitors.KnnK, options.Monitors.KnnTemperature);
        if (probe)
        {
            // The probe seeds libtorch's generator for its own initialisation; training's noise must not notice.
            var linear = new LinearEval(new LinearEvalOptions { Features = FeatureMode.Cached, Seed = options.Seed, Test = false }, new SilentObserver());
            epoch.Row["linear_val_acc"] = Runtime.Determinism.KeepingGenerator(
                () => linear.Fit(bank, epoch.ValFeatures, test: null, data.Info.NumClasses, views.Device)).ValAccuracy[^1];
        }
    }

    private static bool Due(int every, EpochEnd epoch) => every > 0 && ((epoch.Epoch + 1) % every == 0 || epoch.Last);
}

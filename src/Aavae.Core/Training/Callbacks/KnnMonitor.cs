using Aavae.Augmentation;
using Aavae.Data;
using Aavae.Evaluation;
using Aavae.Models;

namespace Aavae.Training.Callbacks;

/// <summary>Weighted k-NN accuracy of the validation features against the training split's, every <c>knn_every</c> epochs and after the last.</summary>
public sealed class KnnMonitor(AavaeModel model, DataModule data, Views views, PretrainOptions options) : ITrainingCallback
{
    public void OnValidationEnd(EpochEnd epoch)
    {
        if (options.KnnEvery <= 0 || ((epoch.Epoch + 1) % options.KnnEvery != 0 && !epoch.Last)) return;
        using var bank = FeatureExtractor.Encode(model.Encoder, data.Train, views, options.BatchSize, options.LimitTrainBatches);
        epoch.Row["knn_acc"] = Knn.Accuracy(bank, epoch.ValFeatures, data.Info.NumClasses, options.KnnK, options.KnnTemperature);
    }
}

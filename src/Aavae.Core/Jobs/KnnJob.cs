using Aavae.Evaluation;
using Aavae.Progress;

namespace Aavae.Jobs;

/// <summary><c>aavae knn</c> as one call: weighted k-NN accuracy of a checkpoint's frozen encoder on its data set's test split.</summary>
public static class KnnJob
{
    /// <param name="notes">Hears what the encoder's checkpoint held that it ignored, and any rerouted convolution; null: the observer.</param>
    public static KnnResult Run(EncoderSource source, KnnOptions options, ITrainingObserver observer, Action<string>? notes = null)
    {
        options.Validate();
        var (weights, data) = source.Load();
        using (weights)
        using (data)
        {
            observer.OnMessage(EncoderSource.Describe(weights, data));
            using var encoder = source.BuildEncoder(weights, notes ?? observer.OnMessage);
            return Knn.Evaluate(encoder, data, options, source.Device.Resolve());
        }
    }
}

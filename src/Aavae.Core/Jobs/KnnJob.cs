using Aavae.Evaluation;
using Aavae.Progress;

namespace Aavae.Jobs;

/// <summary><c>aavae knn</c> as one call: weighted k-NN accuracy of a checkpoint's frozen encoder on its data set's test split.</summary>
public static class KnnJob
{
    public static KnnResult Run(EncoderSource source, KnnOptions options, ITrainingObserver observer)
    {
        options.Validate();
        var (weights, data) = source.Load();
        using (weights)
        using (data)
        {
            observer.OnMessage(EncoderSource.Describe(weights, data));
            using var encoder = source.BuildEncoder(weights, observer.OnMessage);
            return Knn.Evaluate(encoder, data, options, source.Device.Resolve());
        }
    }
}

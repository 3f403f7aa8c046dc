using Aavae.Evaluation;
using Aavae.Progress;
using Aavae.Reports;
using Aavae.Runs;

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
            var result = Knn.Evaluate(encoder, data, options, source.Device.Resolve());
            // A run's own encoder: the result joins the run's files, and its page shows it.
            var run = RunFolder.Containing(weights.Path);
            if (File.Exists(new RunFolder(run).Config))
            {
                result.Save(Path.Combine(run, RunRecord.KnnFile));
                ReportJob.Refresh(run, observer.OnMessage);
            }
            return result;
        }
    }
}

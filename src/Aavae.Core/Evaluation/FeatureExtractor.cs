using Aavae.Augmentation;
using Aavae.Data;
using Aavae.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Evaluation;

/// <summary>Encoded features of a split and their labels, on the CPU.</summary>
public sealed record FeatureSet(Tensor Features, Tensor Labels) : IDisposable
{
    public int Count => (int)Features.shape[0];

    public void Dispose()
    {
        Features.Dispose();
        Labels.Dispose();
    }
}

/// <summary>Runs the frozen encoder (eval mode, no gradient) over a split's evaluation view.</summary>
public static class FeatureExtractor
{
    public static FeatureSet Encode(nn.Module<Tensor, Tensor> encoder, IImageSource source, Views views, int batchSize, int? limitBatches = null,
        Action<int, int>? progress = null)
    {
        bool wasTraining = encoder.training;
        encoder.eval();
        var loader = new BatchLoader<LabelledBatch>(source, new LoaderOptions(batchSize, Shuffle: false, DropLast: false, Seed: 0, LimitBatches: limitBatches, Prefetch: LoaderOptions.PrefetchOn(views.Device)),
            (indices, _) =>
            {
                // Intermediates die with this scope; the batch itself outlives it.
                using var scope = NewDisposeScope();
                var (images, labels) = source.GetBatch(indices);
                return new LabelledBatch(views.Eval(images).DetachFromDisposeScope(), labels.DetachFromDisposeScope());
            });
        var features = new List<Tensor>();
        var labels = new List<Tensor>();
        try
        {
            int done = 0;
            foreach (var batch in loader)
                using (batch)
                using (var scope = NewDisposeScope())
                using (inference_mode())
                {
                    features.Add(encoder.call(batch.Images).cpu().MoveToOuterDisposeScope());
                    labels.Add(batch.Labels.cpu().clone().MoveToOuterDisposeScope());
                    progress?.Invoke(++done, loader.BatchCount);
                }
            return new FeatureSet(cat(features, 0).DetachFromDisposeScope(), cat(labels, 0).DetachFromDisposeScope());
        }
        finally
        {
            foreach (var t in features.Concat(labels)) t.Dispose();
            encoder.train(wasTraining);
        }
    }
}

using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Aavae.Evaluation;

/// <summary>
/// Weighted k-nearest-neighbour classification on cosine similarity (Wu et al. 2018, InstDisc;
/// as solo-learn's WeightedKNNClassifier): each of the k most similar training features votes
/// for its class with weight exp(similarity / temperature).
/// </summary>
public static class Knn
{
    /// <summary>The test split's k-NN accuracy against the training split's features, both through the evaluation view.</summary>
    public static KnnResult Evaluate(nn.Module<Tensor, Tensor> encoder, Data.DataModule data, KnnOptions options, Device device)
    {
        options.Validate();
        var views = new Augmentation.Views(data.Info, device);
        using var bank = FeatureExtractor.Encode(encoder, data.Train, views, options.BatchSize, options.LimitBatches);
        using var test = FeatureExtractor.Encode(encoder, data.Test, views, options.BatchSize, options.LimitBatches);
        double accuracy = Accuracy(bank, test, data.Info.NumClasses, options.K, options.Temperature);
        return new KnnResult(data.Info.Name, options.K, options.Temperature, accuracy, bank.Count, test.Count);
    }

    /// <returns>Top-1 accuracy of <paramref name="query"/> against the bank <paramref name="train"/>.</returns>
    public static double Accuracy(FeatureSet train, FeatureSet query, int numClasses, int k = KnnOptions.DefaultK, double temperature = KnnOptions.DefaultTemperature, int chunk = 256)
    {
        if (train.Count == 0 || query.Count == 0) throw new ArgumentException("k-NN needs a non-empty bank and query set");
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        using var temperatureScalar = temperature.ToScalar();
        var bank = F.normalize(train.Features, dim: 1);
        var bankLabels = train.Labels;
        int kk = Math.Min(k, train.Count);
        long correct = 0;
        for (int start = 0; start < query.Count; start += chunk)
        {
            using var inner = NewDisposeScope();
            int end = Math.Min(start + chunk, query.Count);
            var q = F.normalize(query.Features[start..end], dim: 1);
            var (sim, idx) = q.matmul(bank.T).topk(kk, dim: 1);
            var weights = sim.div(temperatureScalar).exp();
            var votes = zeros(end - start, numClasses).scatter_add_(1, bankLabels[idx], weights);
            correct += votes.argmax(1).eq(query.Labels[start..end]).sum().item<long>();
        }
        return (double)correct / query.Count;
    }
}

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
    /// <returns>Top-1 accuracy of <paramref name="query"/> against the bank <paramref name="train"/>.</returns>
    public static double Accuracy(FeatureSet train, FeatureSet query, int numClasses, int k = 200, double temperature = 0.1, int chunk = 256)
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

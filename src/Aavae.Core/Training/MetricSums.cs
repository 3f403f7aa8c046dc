using Aavae.Distributed;
using Aavae.Objectives;
using Aavae.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Training;

/// <summary>
/// Weighted running sums of metrics for epoch means, in float64 on the metrics' device: tensors are
/// added without reading them (no wait for the device per step), plain numbers as they come. Each
/// metric is the mean over the batches that reported it (a metric measured every k-th step is the
/// mean of those steps). Means keep the order in which metrics first appeared, which is the order of
/// the CSV's columns.
/// </summary>
public sealed class MetricSums : IDisposable
{
    private readonly List<string> order = [];
    private readonly Dictionary<string, Tensor> tensors = [];
    private readonly Dictionary<string, double> numbers = [];
    private readonly Dictionary<string, double> weights = [];

    public void Add(IReadOnlyDictionary<string, Tensor> metrics, double w)
    {
        using var scale = w.ToScalar();
        foreach (var (k, v) in metrics)
        {
            if (!tensors.TryGetValue(k, out var sum))
            {
                order.Add(k);
                tensors[k] = sum = zeros(1, ScalarType.Float64, device: v.device).DetachFromDisposeScope();
            }
            using var term = v.detach().reshape(1).to_type(ScalarType.Float64).mul(scale);
            sum.add_(term, Scalars.One);
            weights[k] = weights.GetValueOrDefault(k) + w;
        }
    }

    public void Add(string name, double value, double w)
    {
        if (!numbers.ContainsKey(name)) order.Add(name);
        numbers[name] = numbers.GetValueOrDefault(name) + value * w;
        weights[name] = weights.GetValueOrDefault(name) + w;
    }

    /// <summary>
    /// Adds up the sums and weights of every process (each summed its shard), so the means are the
    /// job's. Reads the tensors once; every process must have seen the same metrics.
    /// </summary>
    public void AllReduce(IProcessGroup group)
    {
        if (group.Size == 1) return;
        int n = order.Count;
        var values = new double[2 * n + 2];
        for (int i = 0; i < n; i++)
        {
            values[i] = tensors.TryGetValue(order[i], out var t) ? ObjectiveOutput.ReadValue(t) : numbers[order[i]];
            values[n + i] = weights[order[i]];
        }
        // Every process must have summed the same metrics in the same order: their names' hash says so.
        double names = MpiProcessGroup.Fnv1a(string.Join("\n", order));
        values[^2] = names;
        values[^1] = order.Count;
        group.AllReduceSum(values);
        if (values[^1] != (double)order.Count * group.Size || values[^2] != names * group.Size)
            throw new InvalidOperationException($"process {group.Rank}'s metrics ({string.Join(", ", order)}) are not the other processes'");
        foreach (var t in tensors.Values) t.Dispose();
        tensors.Clear();
        for (int i = 0; i < n; i++) (numbers[order[i]], weights[order[i]]) = (values[i], values[n + i]);
    }

    public IEnumerable<KeyValuePair<string, double>> Means() => order.Select(k =>
        KeyValuePair.Create(k, (tensors.TryGetValue(k, out var t) ? ObjectiveOutput.ReadValue(t) : numbers[k]) / Math.Max(weights[k], 1e-12)));

    public void Dispose()
    {
        foreach (var t in tensors.Values) t.Dispose();
    }
}

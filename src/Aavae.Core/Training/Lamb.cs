using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Training;

/// <summary>A set of parameters sharing LAMB settings, as a PyTorch parameter group.</summary>
public sealed record LambGroup(IReadOnlyList<Tensor> Parameters, double WeightDecay, bool ExcludeFromLayerAdaptation);

/// <summary>
/// LAMB (You et al., "Large batch optimization for deep learning", arXiv 1904.00962) in the
/// reference's variant: Adam moments with bias correction, eps added after the square root,
/// decoupled weight decay added to the update, then the update scaled by the trust ratio
/// ||w|| / ||update|| unless the group is excluded from layer adaptation (biases and BatchNorm).
/// TorchSharp has no LAMB.
/// </summary>
public sealed class Lamb : IDisposable
{
    private readonly IReadOnlyList<LambGroup> groups;
    private readonly Dictionary<Tensor, (Tensor ExpAvg, Tensor ExpAvgSq)> state = new(ReferenceEqualityComparer.Instance);

    public Lamb(IReadOnlyList<LambGroup> groups, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-6)
    {
        if (lr < 0) throw new ArgumentException($"learning rate must be >= 0, got {lr}");
        if (beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1) throw new ArgumentException($"betas must lie in [0, 1), got ({beta1}, {beta2})");
        if (groups.Any(g => g.WeightDecay < 0)) throw new ArgumentException("weight decay must be >= 0");
        this.groups = groups;
        LearningRate = lr;
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
    }

    /// <summary>The current learning rate; the schedule sets it every step.</summary>
    public double LearningRate { get; set; }
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public long StepCount { get; private set; }

    public void ZeroGrad()
    {
        foreach (var p in groups.SelectMany(g => g.Parameters)) p.grad?.zero_();
    }

    public void Step()
    {
        StepCount++;
        double bc1 = 1 - Math.Pow(Beta1, StepCount), bc2 = 1 - Math.Pow(Beta2, StepCount);
        using var _ = no_grad();
        foreach (var group in groups)
            foreach (var p in group.Parameters)
            {
                if (p.grad is not { } grad) continue;
                using var scope = NewDisposeScope();
                if (!state.TryGetValue(p, out var s))
                {
                    s = (zeros_like(p).DetachFromDisposeScope(), zeros_like(p).DetachFromDisposeScope());
                    state[p] = s;
                }
                s.ExpAvg.mul_(Beta1).add_(grad, alpha: 1 - Beta1);
                s.ExpAvgSq.mul_(Beta2).addcmul_(grad, grad, value: 1 - Beta2);
                var update = (s.ExpAvg / bc1) / ((s.ExpAvgSq.sqrt() / Math.Sqrt(bc2)).add_(Eps));
                if (group.WeightDecay != 0) update = update.add(p, alpha: group.WeightDecay);
                double trust = 1.0;
                if (!group.ExcludeFromLayerAdaptation)
                {
                    double wNorm = p.norm().to_type(ScalarType.Float64).item<double>();
                    double uNorm = update.norm().to_type(ScalarType.Float64).item<double>();
                    if (wNorm > 0 && uNorm > 0) trust = wNorm / uNorm;
                }
                p.add_(update, alpha: -LearningRate * trust);
            }
    }

    public void Dispose()
    {
        foreach (var (a, b) in state.Values)
        {
            a.Dispose();
            b.Dispose();
        }
        state.Clear();
    }
}

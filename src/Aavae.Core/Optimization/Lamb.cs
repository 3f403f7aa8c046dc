using Aavae.Runtime;
using System.Collections;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Aavae.Optimization;

/// <summary>
/// LAMB (You et al., "Large batch optimization for deep learning", arXiv 1904.00962) in the
/// reference's variant: Adam moments with bias correction, eps added after the square root,
/// decoupled weight decay added to the update, then the update scaled by the trust ratio
/// ||w|| / ||update|| unless the group is excluded from layer adaptation (biases and BatchNorm).
/// TorchSharp has no LAMB.
/// </summary>
public sealed class Lamb : IStepOptimizer
{
    private readonly IReadOnlyList<ParameterGroup> groups;
    private readonly Parameter[] parameters;
    private readonly Tensor?[] expAvg;
    private readonly Tensor?[] expAvgSq;

    public Lamb(IReadOnlyList<ParameterGroup> groups, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-6)
    {
        if (lr < 0) throw new ArgumentException($"learning rate must be >= 0, got {lr}");
        if (beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1) throw new ArgumentException($"betas must lie in [0, 1), got ({beta1}, {beta2})");
        if (groups.Any(g => g.WeightDecay < 0)) throw new ArgumentException("weight decay must be >= 0");
        this.groups = groups;
        parameters = groups.SelectMany(g => g.Parameters).ToArray();
        expAvg = new Tensor?[parameters.Length];
        expAvgSq = new Tensor?[parameters.Length];
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

    public void SetLearningRate(double lr) => LearningRate = lr;

    public void ZeroGrad()
    {
        foreach (var p in parameters) p.grad?.zero_();
    }

    public void Step()
    {
        StepCount++;
        double bc1 = 1 - Math.Pow(Beta1, StepCount), bc2 = 1 - Math.Pow(Beta2, StepCount);
        using var _ = no_grad();
        int i = 0;
        foreach (var group in groups)
            foreach (var p in group.Parameters)
            {
                int index = i++;
                if (p.grad is not { } grad) continue;
                using var scope = NewDisposeScope();
                var m = expAvg[index] ??= zeros_like(p).DetachFromDisposeScope();
                var v = expAvgSq[index] ??= zeros_like(p).DetachFromDisposeScope();
                using var beta1 = Beta1.ToScalar();
                using var beta2 = Beta2.ToScalar();
                using var oneMinusBeta1 = (1 - Beta1).ToScalar();
                using var oneMinusBeta2 = (1 - Beta2).ToScalar();
                using var biasCorrection1 = bc1.ToScalar();
                using var sqrtBiasCorrection2 = Math.Sqrt(bc2).ToScalar();
                using var eps = Eps.ToScalar();
                using var weightDecay = group.WeightDecay.ToScalar();
                m.mul_(beta1).add_(grad, oneMinusBeta1);
                v.mul_(beta2).addcmul_(grad, grad, oneMinusBeta2);
                var update = m.div(biasCorrection1).div_(v.sqrt().div_(sqrtBiasCorrection2).add_(eps, Scalars.One));
                if (group.WeightDecay != 0) update = update.add(p, weightDecay);
                double trust = 1.0;
                if (!group.ExcludeFromLayerAdaptation)
                {
                    double wNorm = p.norm().to_type(ScalarType.Float64).item<double>();
                    double uNorm = update.norm().to_type(ScalarType.Float64).item<double>();
                    if (wNorm > 0 && uNorm > 0) trust = wNorm / uNorm;
                }
                using var stepSize = (-LearningRate * trust).ToScalar();
                p.add_(update, stepSize);
            }
    }

    public Dictionary<string, object> StateDict()
    {
        var state = new Dictionary<object, object>();
        for (int i = 0; i < parameters.Length; i++)
            if (expAvg[i] is { } m && expAvgSq[i] is { } v)
                state[i] = new Dictionary<string, object> { ["step"] = StepCount, ["exp_avg"] = m, ["exp_avg_sq"] = v };
        var paramGroups = OptimizerState.ParamGroups(groups, (_, g) => new Dictionary<string, object>
        {
            ["lr"] = LearningRate, ["betas"] = new object[] { Beta1, Beta2 }, ["eps"] = Eps,
            ["weight_decay"] = g.WeightDecay, ["exclude_from_layer_adaptation"] = g.ExcludeFromLayerAdaptation,
        });
        return new Dictionary<string, object> { ["state"] = state, ["param_groups"] = paramGroups, ["step"] = StepCount };
    }

    public void LoadStateDict(IDictionary state)
    {
        var perParameter = OptimizerState.PerParameter(state, parameters.Length);
        StepCount = OptimizerState.ToLong(state["step"] ?? throw new InvalidDataException("LAMB state has no step count"));
        for (int i = 0; i < parameters.Length; i++)
        {
            expAvg[i]?.Dispose();
            expAvgSq[i]?.Dispose();
            expAvg[i] = expAvgSq[i] = null;
            if (perParameter[i] is not { } s) continue;
            expAvg[i] = OptimizerState.Tensor(s, "exp_avg", parameters[i]);
            expAvgSq[i] = OptimizerState.Tensor(s, "exp_avg_sq", parameters[i]);
        }
    }

    public void Dispose()
    {
        foreach (var t in expAvg.Concat(expAvgSq)) t?.Dispose();
    }
}

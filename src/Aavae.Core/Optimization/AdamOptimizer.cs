using System.Collections;
using Aavae.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Aavae.Optimization;

/// <summary>
/// Adam as torch.optim.Adam computes it (L2 weight decay added to the gradient; the same
/// operations in the same order as TorchSharp's Adam, so results are identical), with its moments
/// saved and restored in PyTorch's layout. Written out rather than TorchSharp's own because that
/// passes libtorch implicitly converted scalars on every step (see <see cref="Scalars"/>).
/// </summary>
public sealed class AdamOptimizer : IStepOptimizer
{
    private readonly Parameter[] parameters;
    private readonly IReadOnlyList<ParameterGroup> groups;
    private readonly object[] betas;
    private readonly double beta1, beta2, eps;
    private readonly Scalar beta1Scalar, beta2Scalar, oneMinusBeta1, oneMinusBeta2, epsScalar;
    private readonly Tensor[] expAvg, expAvgSq;
    private readonly long[] steps;
    private double learningRate;

    public AdamOptimizer(IReadOnlyList<ParameterGroup> groups, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        this.groups = groups;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        betas = [beta1, beta2];
        learningRate = lr;
        (beta1Scalar, beta2Scalar, oneMinusBeta1, oneMinusBeta2, epsScalar) =
            (beta1.ToScalar(), beta2.ToScalar(), (1 - beta1).ToScalar(), (1 - beta2).ToScalar(), eps.ToScalar());
        parameters = groups.SelectMany(g => g.Parameters).ToArray();
        using var _ = no_grad();
        expAvg = parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        expAvgSq = parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        steps = new long[parameters.Length];
    }

    public void SetLearningRate(double lr) => learningRate = lr;

    public void ZeroGrad()
    {
        foreach (var p in parameters) p.grad?.zero_();
    }

    public void Step()
    {
        using var _ = no_grad();
        int i = 0;
        foreach (var group in groups)
        {
            using var weightDecay = group.WeightDecay.ToScalar();
            foreach (var p in group.Parameters)
            {
                int index = i++;
                if (p.grad is not { } grad) continue;
                using var scope = NewDisposeScope();
                long step = ++steps[index];
                double biasCorrection1 = 1 - Math.Pow(beta1, step), biasCorrection2 = 1 - Math.Pow(beta2, step);
                if (group.WeightDecay != 0) grad = grad.add(p, weightDecay);
                expAvg[index].mul_(beta1Scalar).add_(grad, oneMinusBeta1);
                expAvgSq[index].mul_(beta2Scalar).addcmul_(grad, grad, oneMinusBeta2);
                using var sqrtBiasCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
                var denom = expAvgSq[index].sqrt().div_(sqrtBiasCorrection2).add_(epsScalar, Scalars.One);
                using var stepSize = (-(learningRate / biasCorrection1)).ToScalar();
                p.addcdiv_(expAvg[index], denom, stepSize);
            }
        }
    }

    public Dictionary<string, object> StateDict()
    {
        var state = new Dictionary<object, object>();
        for (int i = 0; i < parameters.Length; i++)
            state[i] = new Dictionary<string, object>
            {
                // PyTorch keeps the step count as a float tensor.
                ["step"] = tensor((float)steps[i]),
                ["exp_avg"] = expAvg[i],
                ["exp_avg_sq"] = expAvgSq[i],
            };
        var paramGroups = OptimizerState.ParamGroups(groups, (i, g) => new Dictionary<string, object>
        {
            ["lr"] = learningRate, ["betas"] = betas, ["eps"] = eps, ["weight_decay"] = g.WeightDecay, ["amsgrad"] = false,
        });
        return new Dictionary<string, object> { ["state"] = state, ["param_groups"] = paramGroups };
    }

    public void LoadStateDict(IDictionary state)
    {
        var perParameter = OptimizerState.PerParameter(state, parameters.Length);
        using var _ = no_grad();
        for (int i = 0; i < parameters.Length; i++)
        {
            if (perParameter[i] is not { } s)
            {
                steps[i] = 0;
                expAvg[i].zero_();
                expAvgSq[i].zero_();
                continue;
            }
            steps[i] = OptimizerState.ToLong(s["step"] ?? throw new InvalidDataException($"optimizer state of parameter {i} has no step"));
            using var m = OptimizerState.Tensor(s, "exp_avg", parameters[i]);
            using var v = OptimizerState.Tensor(s, "exp_avg_sq", parameters[i]);
            expAvg[i].copy_(m);
            expAvgSq[i].copy_(v);
        }
    }

    public void Dispose()
    {
        foreach (var t in expAvg.Concat(expAvgSq)) t.Dispose();
        foreach (var s in new[] { beta1Scalar, beta2Scalar, oneMinusBeta1, oneMinusBeta2, epsScalar }) s.Dispose();
    }
}

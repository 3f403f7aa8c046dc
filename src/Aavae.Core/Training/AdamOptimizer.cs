using System.Collections;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Aavae.Training;

/// <summary>
/// TorchSharp's Adam (L2 weight decay added to the gradient, as torch.optim.Adam) behind
/// <see cref="IStepOptimizer"/>, with its moments saved and restored in PyTorch's layout.
/// </summary>
public sealed class AdamOptimizer : IStepOptimizer
{
    private readonly Adam adam;
    private readonly Parameter[] parameters;
    private readonly IReadOnlyList<ParameterGroup> groups;
    private readonly object[] betas;
    private readonly double eps;

    public AdamOptimizer(IReadOnlyList<ParameterGroup> groups, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        this.groups = groups;
        betas = [beta1, beta2];
        this.eps = eps;
        parameters = groups.SelectMany(g => g.Parameters).ToArray();
        adam = optim.Adam(groups.Select(g => new Adam.ParamGroup(g.Parameters, lr: lr, beta1: beta1, beta2: beta2, eps: eps, weight_decay: g.WeightDecay)), lr: lr);
    }

    public void SetLearningRate(double lr)
    {
        foreach (var g in adam.ParamGroups) g.LearningRate = lr;
    }

    public void ZeroGrad() => adam.zero_grad();

    public void Step() => adam.step();

    private List<Adam.State> States() => adam.state_dict().State.Cast<Adam.State>().ToList();

    public Dictionary<string, object> StateDict()
    {
        var state = new Dictionary<object, object>();
        var states = States();
        for (int i = 0; i < states.Count; i++)
            state[i] = new Dictionary<string, object>
            {
                // PyTorch keeps the step count as a float tensor.
                ["step"] = tensor((float)states[i].step),
                ["exp_avg"] = states[i].exp_avg,
                ["exp_avg_sq"] = states[i].exp_avg_sq,
            };
        var learningRates = adam.ParamGroups.Select(g => g.LearningRate).ToList();
        var paramGroups = OptimizerState.ParamGroups(groups, (i, g) => new Dictionary<string, object>
        {
            ["lr"] = learningRates[i], ["betas"] = betas, ["eps"] = eps, ["weight_decay"] = g.WeightDecay, ["amsgrad"] = false,
        });
        return new Dictionary<string, object> { ["state"] = state, ["param_groups"] = paramGroups };
    }

    public void LoadStateDict(IDictionary state)
    {
        var states = States();
        var perParameter = OptimizerState.PerParameter(state, parameters.Length);
        using var _ = no_grad();
        for (int i = 0; i < states.Count; i++)
        {
            if (perParameter[i] is not { } s)
            {
                states[i].step = 0;
                states[i].exp_avg.zero_();
                states[i].exp_avg_sq.zero_();
                continue;
            }
            states[i].step = OptimizerState.ToLong(s["step"] ?? throw new InvalidDataException($"optimizer state of parameter {i} has no step"));
            using var m = OptimizerState.Tensor(s, "exp_avg", parameters[i]);
            using var v = OptimizerState.Tensor(s, "exp_avg_sq", parameters[i]);
            states[i].exp_avg.copy_(m);
            states[i].exp_avg_sq.copy_(v);
        }
    }

    public void Dispose() => adam.Dispose();
}

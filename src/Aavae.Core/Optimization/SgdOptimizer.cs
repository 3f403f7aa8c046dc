using Aavae.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Aavae.Optimization;

/// <summary>
/// SGD with momentum (optionally Nesterov) and L2 weight decay, as torch.optim.SGD computes it
/// (dampening 0; the same operations in the same order as TorchSharp's SGD, so results are
/// identical). Written out because TorchSharp's passes libtorch implicitly converted scalars on
/// every step (see <see cref="Scalars"/>).
/// </summary>
public sealed class SgdOptimizer : IDisposable
{
    private readonly Parameter[] parameters;
    private readonly Tensor?[] momentumBuffers;
    private readonly bool nesterov;
    private readonly Scalar momentum, weightDecay;
    private readonly bool hasMomentum, hasWeightDecay;

    public SgdOptimizer(IEnumerable<Parameter> parameters, double lr, double momentum = 0, bool nesterov = false, double weightDecay = 0)
    {
        this.parameters = parameters.ToArray();
        momentumBuffers = new Tensor?[this.parameters.Length];
        LearningRate = lr;
        this.nesterov = nesterov;
        this.momentum = momentum.ToScalar();
        this.weightDecay = weightDecay.ToScalar();
        hasMomentum = momentum != 0;
        hasWeightDecay = weightDecay != 0;
    }

    public double LearningRate { get; set; }

    public void ZeroGrad()
    {
        foreach (var p in parameters) p.grad?.zero_();
    }

    public void Step()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var step = (-LearningRate).ToScalar();
        for (int i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            if (p.grad is not { } grad) continue;
            if (hasWeightDecay) grad = grad.add(p, weightDecay);
            if (hasMomentum)
            {
                if (momentumBuffers[i] is not { } buffer)
                    buffer = momentumBuffers[i] = grad.clone().detach().DetachFromDisposeScope();
                else
                    buffer.mul_(momentum).add_(grad, Scalars.One); // dampening 0
                grad = nesterov ? grad.add(buffer, momentum) : buffer;
            }
            p.add_(grad, step);
        }
    }

    public void Dispose()
    {
        foreach (var b in momentumBuffers) b?.Dispose();
        momentum.Dispose();
        weightDecay.Dispose();
    }
}

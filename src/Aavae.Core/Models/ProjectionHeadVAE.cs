using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Aavae.Models;

/// <summary>
/// Maps encoder features h to the posterior q(z|x) = Normal(mu, exp(logvar / 2)):
/// Linear(h, h) -> BatchNorm1d -> ReLU, then two bias-free heads.
/// </summary>
public sealed class ProjectionHeadVAE : Module<Tensor, (Tensor mu, Tensor logvar)>
{
    private readonly Sequential first_layer;
    private readonly Linear mu;
    private readonly Linear logvar;

    public ProjectionHeadVAE(long inputDim, long hiddenDim, long latentDim) : base(nameof(ProjectionHeadVAE))
    {
        if (latentDim < 1) throw new ArgumentException($"latent dim must be >= 1, got {latentDim}");
        first_layer = Sequential(Linear(inputDim, hiddenDim), BatchNormNd.OneD(hiddenDim), ReLU());
        mu = Linear(hiddenDim, latentDim, hasBias: false);
        logvar = Linear(hiddenDim, latentDim, hasBias: false);
        RegisterComponents();
    }

    public override (Tensor mu, Tensor logvar) forward(Tensor h)
    {
        using var scope = NewDisposeScope();
        var x = first_layer.call(h);
        return (mu.call(x).MoveToOuterDisposeScope(), logvar.call(x).MoveToOuterDisposeScope());
    }
}

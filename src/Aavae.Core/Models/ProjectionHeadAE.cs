using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Aavae.Models;

/// <summary>Deterministic head of the autoencoder baseline: Linear -> BatchNorm1d -> ReLU -> Linear.</summary>
public sealed class ProjectionHeadAE : Module<Tensor, Tensor>
{
    private readonly Sequential projection_head;

    public ProjectionHeadAE(long inputDim, long hiddenDim, long latentDim) : base(nameof(ProjectionHeadAE))
    {
        if (latentDim < 1) throw new ArgumentException($"latent dim must be >= 1, got {latentDim}");
        projection_head = Sequential(
            Linear(inputDim, hiddenDim), BatchNormNd.OneD(hiddenDim), ReLU(), Linear(hiddenDim, latentDim, hasBias: false));
        RegisterComponents();
    }

    public override Tensor forward(Tensor h) => projection_head.call(h);
}

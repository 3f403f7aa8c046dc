using Aavae.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Aavae.Objectives;

/// <summary>
/// The deterministic autoencoder baseline of the reference (src/ae.py): reconstruct the encoder's
/// own input under mean squared error; log how well the latents of the two views agree.
/// </summary>
public sealed class AeObjective : IObjective
{
    public ObjectiveOutput Compute(Latent posterior, Latent target, Func<Tensor, Tensor> decode, Tensor? logScale, Tensor x, Tensor original, int samples)
    {
        var z = posterior.Mean;
        var loss = F.mse_loss(decode(z), x);
        Tensor cosSim;
        using (no_grad()) cosSim = F.cosine_similarity(target.Mean, z, dim: 1, eps: 1e-6).mean();
        var mse = loss.detach();
        return new ObjectiveOutput(loss, new Dictionary<string, Tensor> { ["mse"] = mse, ["loss"] = mse, ["cos_sim"] = cosSim });
    }
}

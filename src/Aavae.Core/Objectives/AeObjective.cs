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
    public ObjectiveOutput Compute(ObjectiveInput input, IDecoder decoder)
    {
        var (posterior, target, x, _, _) = input;
        var z = posterior.Mean;
        var loss = F.mse_loss(decoder.Decode(z), x);
        Tensor cosSim;
        using (no_grad()) cosSim = F.cosine_similarity(target.Mean, z, dim: 1, eps: 1e-6).mean();
        var mse = loss.detach();
        return new ObjectiveOutput(loss, new Dictionary<string, Tensor> { ["mse"] = mse, ["loss"] = mse, ["cos_sim"] = cosSim });
    }
}

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
        var mse = loss.detach();
        var metrics = new Dictionary<string, Tensor> { ["mse"] = mse, ["loss"] = mse };
        if (target is not null)
            using (no_grad()) metrics["cos_sim"] = F.cosine_similarity(target.Mean, z, dim: 1, eps: 1e-6).mean();
        return new ObjectiveOutput(loss, metrics);
    }
}

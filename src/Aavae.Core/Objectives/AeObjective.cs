using Aavae.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Aavae.Objectives;

public sealed record AeStep(Tensor Loss, AeMetrics Metrics);

/// <summary>
/// The deterministic autoencoder baseline of the reference (ae.py): reconstruct the encoder's
/// own input under mean squared error; log how well the latents of the two views agree.
/// </summary>
public sealed class AeObjective
{
    public AeStep Step(AavaeModel model, Tensor x, Tensor original)
    {
        var head = model.AeHead;
        Tensor zOrig;
        using (no_grad())
            zOrig = head.call(model.Encoder.call(original));

        var z = head.call(model.Encoder.call(x));
        var xHat = model.Decoder.call(z);
        var loss = F.mse_loss(xHat, x);
        double cos;
        using (no_grad())
            cos = F.cosine_similarity(zOrig, z, dim: 1, eps: 1e-6).mean().item<float>();
        return new AeStep(loss, new AeMetrics(loss.item<float>(), cos));
    }
}

using Aavae.Models;
using static TorchSharp.torch;

namespace Aavae.Tests;

public static class BatchNorms
{
    /// <summary>Moves every BatchNorm's statistics and affine parameters far from their initial values, so that folding them is tested.</summary>
    public static void Spread(nn.Module module)
    {
        using (no_grad())
            foreach (var bn in module.modules().OfType<BatchNormNd>())
            {
                bn.weight!.uniform_(0.5, 1.5);
                bn.bias!.normal_(0, 0.2);
                bn.running_mean!.normal_(0, 0.3);
                bn.running_var!.uniform_(0.5, 2.0);
            }
    }
}

using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Aavae.Evaluation;

/// <summary>
/// The identity "encoder": normalised pixels, flattened. A linear probe on it is logistic
/// regression on raw pixels, the floor any learned representation should clear.
/// </summary>
public sealed class RawPixels(int channels, int height, int width) : Module<Tensor, Tensor>(nameof(RawPixels))
{
    public int FeatureDim { get; } = channels * height * width;

    public override Tensor forward(Tensor x) => x.flatten(1);
}

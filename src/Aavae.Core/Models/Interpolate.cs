using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Aavae.Models;

/// <summary>Nearest-neighbour resize used by the decoder: x2, or to a fixed square size.</summary>
public sealed class Interpolate : Module<Tensor, Tensor>
{
    private readonly long? size;

    /// <param name="size">Target side length; null doubles the input instead.</param>
    public Interpolate(long? size = null) : base(nameof(Interpolate))
    {
        this.size = size;
    }

    public override Tensor forward(Tensor x) => size is long s
        ? functional.interpolate(x, size: [s, s], mode: InterpolationMode.Nearest)
        : functional.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
}

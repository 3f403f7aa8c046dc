using Aavae.Kernels;
using Aavae.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Models;

/// <summary>
/// Mixed precision by casting per layer rather than libtorch's autocast, which TorchSharp 0.107 does
/// not bind: reaching it means P/Invoking mangled C++ names of libtorch's that change between
/// versions, and its weight-cast cache goes stale under an in-place optimizer step unless cleared.
/// Here each convolution casts its float32 weight and input to the compute type (the float32 master
/// weights get float32 gradients through the cast), BatchNorm keeps float32 parameters and statistics
/// on bfloat16 activations, and the encoder's features and decoder's pixels leave in float32, so
/// the projection heads, the objective and the optimizer never see a reduced type.
/// </summary>
public static class MixedPrecision
{
    public static void Apply(nn.Module model, Precision precision)
    {
        var type = precision.ComputeType();
        foreach (var conv in model.modules().OfType<GuardedConv2d>()) conv.ComputeType = type;
    }
}

using Aavae.Kernels;
using Aavae.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Models;

/// <summary>
/// In eval mode a BatchNorm is a fixed per-channel affine map, so it folds into the convolution
/// before it: W * gamma / sqrt(var + eps) and beta - mean * gamma / sqrt(var + eps) as the
/// convolution's bias, which oneDNN adds inside the kernel. That spares one pass over every
/// activation (its cost is measured in bench/NOTES.md, section 18).
/// The parameters and the state_dict stay as they were: each forward in eval mode folds the
/// parameters as they are then (a few small operations per layer), so a folded encoder still
/// saves, loads and trains as before and its fold never goes stale.
/// </summary>
public static class BatchNormFolding
{
    /// <summary>Folds each BatchNorm of <paramref name="encoder"/> into the convolution before it; returns how many.</summary>
    public static int Fold(ResNetEncoder encoder)
    {
        var modules = encoder.named_modules().ToDictionary(m => m.name, m => m.module);
        int folded = 0;
        foreach (var (name, module) in modules)
        {
            if (module is not GuardedConv2d conv || BatchNormAfter(name) is not { } bnName) continue;
            if (!modules.TryGetValue(bnName, out var next) || next is not BatchNormNd bn) continue;
            conv.UseFolded(() =>
            {
                var (weight, bias) = Fold(conv.weight!, conv.bias, bn.weight!, bn.bias!, bn.running_mean!, bn.running_var!, bn.eps);
                return (ChannelsLast.Is(conv.weight!) ? ChannelsLast.Copy(weight) : weight, bias);
            });
            bn.FoldedIntoConvolution = true;
            folded++;
        }
        return folded;
    }

    // The reference's names pair them: conv1 -> bn1 (stem and blocks), downsample.0 -> downsample.1.
    private static string? BatchNormAfter(string conv)
    {
        int dot = conv.LastIndexOf('.');
        string parent = dot < 0 ? "" : conv[..(dot + 1)], leaf = conv[(dot + 1)..];
        if (leaf.StartsWith("conv", StringComparison.Ordinal)) return parent + "bn" + leaf["conv".Length..];
        return conv.EndsWith("downsample.0", StringComparison.Ordinal) ? conv[..^1] + "1" : null;
    }

    /// <summary>
    /// A layer's weight (first dimension: output channels) and optional bias with the eval-mode
    /// BatchNorm after it folded in, computed in float64 and returned in <paramref name="type"/> (default: the weight's).
    /// </summary>
    public static (Tensor Weight, Tensor Bias) Fold(Tensor weight, Tensor? bias, Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps,
        ScalarType? type = null)
    {
        using var scope = NewDisposeScope();
        using var epsilon = eps.ToScalar();
        var result = type ?? weight.dtype;
        var scale = gamma.detach().to_type(ScalarType.Float64).div(var.detach().to_type(ScalarType.Float64).add(epsilon, Scalars.One).sqrt());
        var shape = new long[weight.dim()];
        Array.Fill(shape, 1L);
        shape[0] = -1;
        var folded = weight.detach().to_type(ScalarType.Float64).mul(scale.view(shape)).to_type(result);
        var m = mean.detach().to_type(ScalarType.Float64);
        var shift = bias is null ? m.neg() : bias.detach().to_type(ScalarType.Float64).sub(m);
        var b = beta.detach().to_type(ScalarType.Float64).add(shift.mul(scale), Scalars.One).to_type(result);
        return (folded.MoveToOuterDisposeScope(), b.MoveToOuterDisposeScope());
    }
}

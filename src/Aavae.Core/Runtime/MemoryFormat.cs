using Aavae.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Runtime;

/// <summary>How 4-D activations and convolution weights lie in memory, as torch.memory_format names them.</summary>
public enum MemoryFormat
{
    /// <summary>NCHW, PyTorch's default: oneDNN converts every convolution's input and output to and from its blocked layout.</summary>
    [SettingName("contiguous", "contiguous_format")] Contiguous,
    /// <summary>
    /// NHWC strides under the same NCHW shape: oneDNN's convolutions read and write it directly, and
    /// libtorch keeps it through BatchNorm, ReLU, add, pooling and nearest upsampling.
    /// </summary>
    ChannelsLast,
}

public static class MemoryFormats
{
    public static string Name(this MemoryFormat format) => SettingValues.Name(format);
}

/// <summary>
/// Channels-last without a <c>memory_format</c> argument, which TorchSharp 0.107 lacks: the layout is
/// made by permuting to NHWC, copying, and permuting back (same shape, NHWC strides), and a module's
/// 4-D parameters take it in place with <c>set_</c>, so they stay the parameters the optimizer holds.
/// A convolution whose weight is channels-last makes libtorch compute in channels-last whatever its
/// input (at::mkldnn_conv_suggest_memory_format), so converting the weights converts the network.
/// </summary>
public static class ChannelsLast
{
    /// <summary>Whether <paramref name="t"/> is a dense 4-D tensor with NHWC strides.</summary>
    public static bool Is(Tensor t)
    {
        if (t.ndim != 4) return false;
        var shape = t.shape;
        var strides = t.stride();
        long c = shape[1], h = shape[2], w = shape[3];
        return strides[1] == 1 && strides[3] == c && strides[2] == w * c && (shape[0] == 1 || strides[0] == h * w * c);
    }

    /// <summary>A channels-last copy of a 4-D tensor (same shape and values).</summary>
    public static Tensor Copy(Tensor t) => t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    /// <summary>Lays out every 4-D parameter and buffer of <paramref name="module"/> in <paramref name="format"/>, in place.</summary>
    public static void Apply(nn.Module module, MemoryFormat format)
    {
        using var _ = no_grad();
        foreach (var (_, p) in module.named_parameters()) Relayout(p, format);
        foreach (var (_, b) in module.named_buffers()) Relayout(b, format);
    }

    private static void Relayout(Tensor t, MemoryFormat format)
    {
        if (t.ndim != 4) return;
        bool isChannelsLast = Is(t);
        if (format == MemoryFormat.ChannelsLast && !isChannelsLast)
        {
            using var copy = Copy(t);
            t.set_(copy);
        }
        else if (format == MemoryFormat.Contiguous && !t.is_contiguous())
        {
            using var copy = t.contiguous();
            t.set_(copy);
        }
    }
}

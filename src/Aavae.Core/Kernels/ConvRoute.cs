using Aavae.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Aavae.Kernels;

/// <summary>How a convolution is computed. Every route gives the same function; they differ in which libtorch kernels run.</summary>
public enum ConvRoute
{
    /// <summary>libtorch's own conv2d (oneDNN on x86 CPUs).</summary>
    Native,
    /// <summary>
    /// conv2d with the weight and bias zero-padded to <see cref="ConvRoutes.PaddedChannels"/> output
    /// channels, output narrowed back. libtorch 2.10's oneDNN computes wrong input gradients for
    /// fewer than 16 output channels on some AVX-512 CPUs (AMD Zen 5); at 16 it is right, at full speed.
    /// </summary>
    PaddedOutput,
    /// <summary>unfold + matrix product: no convolution kernel at all, slower and memory-hungrier, right wherever matmul is; the output keeps a channels-last input's layout.</summary>
    Im2col,
    /// <summary>
    /// A 1x1 convolution of stride s as every s-th row and column of the input through the same
    /// convolution at stride 1: the same function, without oneDNN's strided kernels (whose input-gradient
    /// planning divides by zero on AMD Zen 5 for 512 or more input channels, see <see cref="KnownCrashes"/>).
    /// </summary>
    Subsampled,
    /// <summary>
    /// libtorch's own conv2d on NCHW copies of a channels-last input and weight, the output laid back
    /// in channels-last: the same function through oneDNN's NCHW kernels, for a channels-last problem
    /// whose kernel crashes or hangs (narrow 1x1 stride-2 weight gradients on AVX2, <see cref="ConvProblem"/>).
    /// </summary>
    Contiguous,
}

public static class ConvRoutes
{
    /// <summary>Output channels the padded route computes; oneDNN's SIMD block for float32 on AVX-512.</summary>
    public const long PaddedChannels = 16;

    /// <summary>The fallbacks in order of preference for a layer whose native kernel is wrong.</summary>
    public static IEnumerable<ConvRoute> FallbacksFor(ConvShape shape)
    {
        if (shape.Kernel == 1 && shape.Padding == 0 && shape.Stride > 1) yield return ConvRoute.Subsampled;
        if (shape.OutChannels < PaddedChannels) yield return ConvRoute.PaddedOutput;
        yield return ConvRoute.Im2col;
    }

    /// <summary>y = conv2d(x, weight, bias) with square stride and padding, computed by <paramref name="route"/>.</summary>
    public static Tensor Apply(ConvRoute route, Tensor x, Tensor weight, Tensor? bias, long stride, long padding) => route switch
    {
        ConvRoute.Native => F.conv2d(x, weight, bias, strides: [stride, stride], padding: [padding, padding]),
        ConvRoute.PaddedOutput => Padded(x, weight, bias, stride, padding),
        ConvRoute.Im2col => Im2col(x, weight, bias, stride, padding),
        ConvRoute.Subsampled => Subsampled(x, weight, bias, stride, padding),
        ConvRoute.Contiguous => Contiguous(x, weight, bias, stride, padding),
        _ => throw new ArgumentOutOfRangeException(nameof(route), route, null),
    };

    private static Tensor Padded(Tensor x, Tensor weight, Tensor? bias, long stride, long padding)
    {
        long outChannels = weight.shape[0];
        long extra = Math.Max(0, PaddedChannels - outChannels);
        using var scope = NewDisposeScope();
        var w = cat([weight, zeros([extra, .. weight.shape[1..]], dtype: weight.dtype, device: weight.device)], 0);
        var b = bias is null ? null : cat([bias, zeros([extra], dtype: bias.dtype, device: bias.device)], 0);
        return F.conv2d(x, w, b, strides: [stride, stride], padding: [padding, padding])
            .narrow(1, 0, outChannels).MoveToOuterDisposeScope();
    }

    private static Tensor Contiguous(Tensor x, Tensor weight, Tensor? bias, long stride, long padding)
    {
        using var scope = NewDisposeScope();
        var y = F.conv2d(x.contiguous(), weight.contiguous(), bias, strides: [stride, stride], padding: [padding, padding]);
        return (ChannelsLast.Is(x) || ChannelsLast.Is(weight) ? ChannelsLast.Copy(y) : y).MoveToOuterDisposeScope();
    }

    private static Tensor Subsampled(Tensor x, Tensor weight, Tensor? bias, long stride, long padding)
    {
        if (weight.shape[2] != 1 || weight.shape[3] != 1 || padding != 0)
            throw new ArgumentException($"the subsampled route computes 1x1 convolutions without padding, not {weight.shape[2]}x{weight.shape[3]} with padding {padding}");
        using var scope = NewDisposeScope();
        return F.conv2d(x.slice(2, 0, x.shape[2], stride).slice(3, 0, x.shape[3], stride), weight, bias).MoveToOuterDisposeScope();
    }

    private static Tensor Im2col(Tensor x, Tensor weight, Tensor? bias, long stride, long padding)
    {
        long n = x.shape[0], outChannels = weight.shape[0], kernel = weight.shape[2];
        long height = (x.shape[2] + 2 * padding - kernel) / stride + 1;
        long width = (x.shape[3] + 2 * padding - kernel) / stride + 1;
        using var scope = NewDisposeScope();
        var columns = F.unfold(x, kernel, padding: padding, stride: stride);    // [N, C*k*k, L]
        var y = weight.reshape(outChannels, -1).matmul(columns);                 // [N, O, L]
        if (bias is not null) y = y.add(bias.view(1, -1, 1), Scalars.One);
        y = y.view(n, outChannels, height, width);
        // The layout libtorch would have given (channels-last when either operand is), so the layers after
        // this one compute in it: a 1x1 weight alone cannot tell.
        return ((ChannelsLast.Is(x) || ChannelsLast.Is(weight)) && !ChannelsLast.Is(y) ? ChannelsLast.Copy(y) : y).MoveToOuterDisposeScope();
    }
}

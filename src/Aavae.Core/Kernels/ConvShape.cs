namespace Aavae.Kernels;

/// <summary>
/// What fixes which convolution kernel libtorch picks: channels, square kernel, stride, padding
/// and bias. Two layers with the same shape compute with the same code, so one check covers both.
/// </summary>
public sealed record ConvShape(long InChannels, long OutChannels, long Kernel, long Stride, long Padding, bool Bias)
{
    /// <summary>Side of the square input the check feeds the layer: big enough for a 7x7 kernel at stride 2.</summary>
    public long CheckInputSize => Math.Max(8, 2 * Kernel);

    public long OutputSize(long inputSize) => (inputSize + 2 * Padding - Kernel) / Stride + 1;

    public override string ToString() =>
        $"conv {InChannels}->{OutChannels} {Kernel}x{Kernel} stride {Stride} pad {Padding}{(Bias ? " +bias" : "")}";
}

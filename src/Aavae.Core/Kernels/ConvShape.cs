namespace Aavae.Kernels;

/// <summary>
/// What fixes which convolution kernel libtorch picks: channels, square kernel, stride, padding
/// and bias. Two layers with the same shape compute with the same code, so one check covers both.
/// </summary>
public sealed record ConvShape(long InChannels, long OutChannels, long Kernel, long Stride, long Padding, bool Bias)
{
    /// <summary>
    /// Whether the layer is small enough to check on a larger input: the kernels known to fail are
    /// those with few output channels, and for them a larger problem (more threads' worth of work,
    /// partial SIMD blocks) costs little; large layers are checked on the smallest input that holds
    /// their kernel, so the float64 reference stays in milliseconds.
    /// </summary>
    private bool Small => InChannels * OutChannels * Kernel * Kernel <= 64 * 64 * 9;

    /// <summary>Side of the square input the check feeds the layer: big enough for a 7x7 kernel at stride 2.</summary>
    public long CheckInputSize => Math.Max(Small ? 16 : 8, 2 * Kernel);

    /// <summary>Images in the check's batch.</summary>
    public long CheckBatch => Small ? 4 : 2;

    public long OutputSize(long inputSize) => (inputSize + 2 * Padding - Kernel) / Stride + 1;

    public override string ToString() =>
        $"conv {InChannels}->{OutChannels} {Kernel}x{Kernel} stride {Stride} pad {Padding}{(Bias ? " +bias" : "")}";
}

using Aavae.Runtime;
using static TorchSharp.torch;

namespace Aavae.Kernels;

/// <summary>
/// Convolutions whose native kernel kills the process on some CPUs, so the guard must not run them
/// even to check them. libtorch 2.10's oneDNN divides by zero (SIGFPE in
/// <c>brgemm_convolution_bwd_utils::brg_blocking_t::est_eff_1x1</c>) while planning the input
/// gradient of a 1x1 stride-2 convolution with 512 or more input channels on AMD Zen 5 (family 26):
/// measured on an "AMD EPYC" of family 26 model 2, 512 -> 1024 and 1024 -> 2048 crash (ResNet-50's
/// downsampling shortcuts: the paper preset), 256 -> 512 and every 3x3 stride-2 shape of the presets
/// do not. Such a shape goes straight to a fallback route.
/// </summary>
public static class KnownCrashes
{
    private static readonly Lazy<bool> zen5 = new(() => IsZen5(CpuInfo.Lines));

    public static bool NativeCrashes(ConvShape shape, Device device) =>
        device.type == TorchSharp.DeviceType.CPU && StridedOneByOneOnZen5(shape) && zen5.Value;

    public static bool StridedOneByOneOnZen5(ConvShape shape) => shape.Kernel == 1 && shape.Stride > 1 && shape.InChannels >= 512;

    /// <summary>An AMD CPU of family 26 (0x1A: Zen 5), from /proc/cpuinfo's lines.</summary>
    public static bool IsZen5(IEnumerable<string> cpuinfo) => CpuInfo.Field(cpuinfo, "vendor_id") == "AuthenticAMD" && CpuInfo.Field(cpuinfo, "cpu family") == "26";
}

using Aavae.Runtime;

namespace Aavae.Tests.Runtime;

public class CpuInfoTests
{
    // oneDNN's ISA names (dnnl::cpu_isa), lowest to highest: only the AVX-512 BF16 level and those above it run bfloat16 on its units.
    [Theory]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData("ALL", true)]
    [InlineData("default", true)]
    [InlineData("SSE41", false)]
    [InlineData("AVX", false)]
    [InlineData("AVX2", false)]
    [InlineData("avx2_vnni", false)]
    [InlineData("AVX2_VNNI_2", false)]
    [InlineData("AVX512_CORE", false)]
    [InlineData("AVX512_CORE_VNNI", false)]
    [InlineData("AVX512_CORE_BF16", true)]
    [InlineData("AVX512_CORE_FP16", true)]
    [InlineData("AVX512_CORE_AMX", true)]
    [InlineData("AVX512_CORE_AMX_FP16", true)]
    [InlineData("AVX10_1_512", true)]
    [InlineData("AVX10_2_512_AMX_2", true)]
    public void AnIsaCapBelowTheBf16LevelLeavesNoBf16Units(string? cap, bool allowed) => Assert.Equal(allowed, CpuInfo.IsaCapAllowsBf16(cap));

    // Flags as /proc/cpuinfo lists them on the machines measured: B (Intel, AVX512-BF16, no AMX), D (Intel, AMX), C (AMD Zen 5), and Zen 3 (AVX2 only).
    private const string IntelNoAmx = "fpu sse4_2 avx2 avx512f avx512_vnni avx_vnni avx512_bf16";
    private const string IntelAmx = "fpu sse4_2 avx2 avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8";
    private const string Zen5 = "fpu sse4_2 avx2 avx512f avx512_vnni avx512_bf16";
    private const string Zen3 = "fpu sse4_2 avx2 fma";

    [Theory]
    [InlineData(IntelNoAmx, "GenuineIntel", null, false)]
    [InlineData(IntelAmx, "GenuineIntel", null, true)]
    [InlineData(IntelAmx, "GenuineIntel", "AVX512_CORE_AMX", true)]
    // AMX capped off leaves Intel's AVX512-BF16 kernels, slower than float32.
    [InlineData(IntelAmx, "GenuineIntel", "AVX512_CORE_BF16", false)]
    [InlineData(Zen5, "AuthenticAMD", null, true)]
    [InlineData(Zen5, "AuthenticAMD", "AVX512_CORE_BF16", true)]
    [InlineData(Zen5, "AuthenticAMD", "AVX2", false)]
    [InlineData(Zen3, "AuthenticAMD", null, false)]
    [InlineData("", "", null, false)]
    public void Bfloat16IsTakenWhereItWasMeasuredFasterThanFloat32(string flags, string vendor, string? cap, bool faster) =>
        Assert.Equal(faster, CpuInfo.Bf16FasterOn(flags, vendor, cap));
}

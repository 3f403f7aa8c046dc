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
}

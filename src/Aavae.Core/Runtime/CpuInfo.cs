namespace Aavae.Runtime;

/// <summary>The fields of /proc/cpuinfo (Linux; empty elsewhere), for the engine report and the guard's known-crash rule.</summary>
public static class CpuInfo
{
    private static readonly Lazy<string[]> lines = new(() => File.Exists("/proc/cpuinfo") ? File.ReadAllLines("/proc/cpuinfo") : []);

    public static IReadOnlyList<string> Lines => lines.Value;

    /// <summary>
    /// Whether the CPU has bfloat16 arithmetic units oneDNN uses (AVX512-BF16 or AMX-BF16), and
    /// ONEDNN_MAX_CPU_ISA lets it use them: a cap below them makes oneDNN emulate bfloat16, slower than float32.
    /// </summary>
    public static bool HasBf16Units => Field(Lines, "flags").Split(' ').Any(f => f is "avx512_bf16" or "amx_bf16")
        && IsaCapAllowsBf16(Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA"));

    /// <summary>
    /// Whether oneDNN's ISA cap <paramref name="cap"/> (unset, ALL, DEFAULT, or an ISA name such as
    /// AVX2 or AVX512_CORE_BF16) includes bfloat16 instructions: the AVX-512 BF16 level and every level
    /// above it (FP16, AMX, AVX10).
    /// </summary>
    public static bool IsaCapAllowsBf16(string? cap)
    {
        var isa = (cap ?? "").Trim().ToUpperInvariant();
        return isa is "" or "ALL" or "DEFAULT" || (isa.StartsWith("AVX512", StringComparison.Ordinal) && (isa.Contains("BF16") || isa.Contains("FP16") || isa.Contains("AMX")))
            || isa.StartsWith("AVX10", StringComparison.Ordinal);
    }

    /// <summary>The CPU as <c>lscpu</c> names it: model name, family and model ("Intel(R) Xeon(R) Processor, family 6 model 207"); "" when unknown.</summary>
    public static string Name
    {
        get
        {
            var name = Field(Lines, "model name");
            var family = Field(Lines, "cpu family");
            var model = Field(Lines, "model\t");
            return name.Length == 0 ? "" : family.Length == 0 ? name : $"{name}, family {family} model {model}";
        }
    }

    /// <summary>The first value of <paramref name="name"/> ("model name", "cpu family", ...); "" when absent.</summary>
    public static string Field(IEnumerable<string> cpuinfo, string name) =>
        cpuinfo.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "";
}

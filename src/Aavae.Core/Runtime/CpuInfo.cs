namespace Aavae.Runtime;

/// <summary>The fields of /proc/cpuinfo (Linux; empty elsewhere), for the engine report and the guard's known-crash rule.</summary>
public static class CpuInfo
{
    private static readonly Lazy<string[]> lines = new(() => File.Exists("/proc/cpuinfo") ? File.ReadAllLines("/proc/cpuinfo") : []);

    public static IReadOnlyList<string> Lines => lines.Value;

    /// <summary>Whether the CPU has bfloat16 arithmetic units oneDNN uses (AVX512-BF16 or AMX-BF16).</summary>
    public static bool HasBf16Units => Field(Lines, "flags").Split(' ').Any(f => f is "avx512_bf16" or "amx_bf16");

    /// <summary>The first value of <paramref name="name"/> ("model name", "cpu family", ...); "" when absent.</summary>
    public static string Field(IEnumerable<string> cpuinfo, string name) =>
        cpuinfo.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "";
}

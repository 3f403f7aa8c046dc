namespace Aavae.Runtime;

/// <summary>The fields of /proc/cpuinfo (Linux; empty elsewhere), for the engine report and the guard's known-crash rule.</summary>
public static class CpuInfo
{
    private static readonly Lazy<string[]> lines = new(() => File.Exists("/proc/cpuinfo") ? File.ReadAllLines("/proc/cpuinfo") : []);

    public static IReadOnlyList<string> Lines => lines.Value;

    /// <summary>Whether the CPU has bfloat16 arithmetic units oneDNN uses (AVX512-BF16 or AMX-BF16).</summary>
    public static bool HasBf16Units => Field(Lines, "flags").Split(' ').Any(f => f is "avx512_bf16" or "amx_bf16");

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

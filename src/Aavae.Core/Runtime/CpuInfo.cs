namespace Aavae.Runtime;

/// <summary>
/// The fields of /proc/cpuinfo (Linux; empty elsewhere), for the engine report, the guard's
/// known-crash rule and what <c>--precision auto</c> takes. <c>AAVAE_CPUINFO</c> names another file
/// to read instead, so that a process makes another CPU's choices (the data-parallel tests give their
/// ranks an AMX Xeon's flags).
/// </summary>
public static class CpuInfo
{
    public const string FileVariable = "AAVAE_CPUINFO";

    private static readonly Lazy<string[]> lines = new(() =>
        Environment.GetEnvironmentVariable(FileVariable) is { Length: > 0 } other
            ? File.Exists(other) ? File.ReadAllLines(other) : throw new FileNotFoundException($"{FileVariable}={other}: no such file (it names a file read instead of /proc/cpuinfo)", other)
            : File.Exists("/proc/cpuinfo") ? File.ReadAllLines("/proc/cpuinfo") : []);

    public static IReadOnlyList<string> Lines => lines.Value;

    /// <summary>
    /// Whether the CPU has bfloat16 arithmetic units oneDNN uses (AVX512-BF16 or AMX-BF16), and
    /// ONEDNN_MAX_CPU_ISA lets it use them: a cap below them makes oneDNN emulate bfloat16, slower than float32.
    /// </summary>
    public static bool HasBf16Units => Bf16UnitsOn(Flags, IsaCap);

    /// <summary>
    /// Whether bfloat16 convolutions run faster than float32 ones on this CPU, which is when
    /// <c>--precision auto</c> takes bf16-mixed: see <see cref="Bf16FasterOn"/>.
    /// </summary>
    public static bool Bf16IsFaster => Bf16FasterOn(Field(Lines, "flags"), Field(Lines, "vendor_id"), IsaCap);

    /// <summary>Why bfloat16 loses on a CPU that has its units but not <see cref="Bf16IsFaster"/>, as the run and <c>aavae doctor</c> say it.</summary>
    public const string Bf16SlowerWithoutAmx = "Intel's AVX512-BF16 without AMX: its bfloat16 convolutions are slower than float32 ones";

    /// <summary>
    /// Whether bfloat16 convolutions outrun float32 on a CPU of these /proc/cpuinfo <paramref name="flags"/>
    /// and <paramref name="vendor"/> under oneDNN's ISA <paramref name="cap"/>, as the <c>cpu-small</c> step
    /// measured (docs/benchmarks.md): with AMX (Intel, 1.7-2.3x float32's speed) and on AMD's AVX512-BF16
    /// (Zen 5, 1.7x), but not on Intel's AVX512-BF16 without AMX, where oneDNN's bfloat16 kernels ran the
    /// step at 0.7x its float32 AVX-512 ones: there bfloat16 would cost accuracy and time both.
    /// </summary>
    public static bool Bf16FasterOn(string flags, string vendor, string? cap)
    {
        var set = flags.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        bool amx = set.Contains("amx_bf16") && IsaCapAllowsAmx(cap);
        return Bf16UnitsOn(set, cap) && (amx || vendor == "AuthenticAMD");
    }

    /// <summary>Whether oneDNN's ISA cap <paramref name="cap"/> lets it use AMX: unset, ALL, DEFAULT, or an ISA name holding AMX.</summary>
    public static bool IsaCapAllowsAmx(string? cap)
    {
        var isa = Isa(cap);
        return Uncapped(isa) || isa.Contains("AMX");
    }

    /// <summary>
    /// Whether oneDNN's ISA cap <paramref name="cap"/> (unset, ALL, DEFAULT, or an ISA name such as
    /// AVX2 or AVX512_CORE_BF16) includes bfloat16 instructions: the AVX-512 BF16 level and every level
    /// above it (FP16, AMX, AVX10).
    /// </summary>
    public static bool IsaCapAllowsBf16(string? cap)
    {
        var isa = Isa(cap);
        return Uncapped(isa) || (isa.StartsWith("AVX512", StringComparison.Ordinal) && (isa.Contains("BF16") || isa.Contains("FP16") || isa.Contains("AMX")))
            || isa.StartsWith("AVX10", StringComparison.Ordinal);
    }

    private static string[] Flags => Field(Lines, "flags").Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static string? IsaCap => Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA");

    private static bool Bf16UnitsOn(string[] flags, string? cap) => flags.Any(f => f is "avx512_bf16" or "amx_bf16") && IsaCapAllowsBf16(cap);

    private static string Isa(string? cap) => (cap ?? "").Trim().ToUpperInvariant();

    private static bool Uncapped(string isa) => isa is "" or "ALL" or "DEFAULT";

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

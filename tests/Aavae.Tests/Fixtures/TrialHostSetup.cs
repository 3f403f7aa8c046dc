using System.Runtime.CompilerServices;
using Aavae.Kernels;

namespace Aavae.Tests;

/// <summary>
/// The convolution guard of this test process runs its trials in the built <c>aavae</c> program,
/// as the command line does: a kernel that crashes or hangs on this CPU ends a trial process, not
/// the test host. Set before any test touches <see cref="KernelGuard.Shared"/>.
/// </summary>
internal static class TrialHostSetup
{
    [ModuleInitializer]
    internal static void UseTheBuiltProgram()
    {
        if (Environment.GetEnvironmentVariable(TrialHost.Variable) is null)
            Environment.SetEnvironmentVariable(TrialHost.Variable, CliRunner.Program);
    }
}

/// <summary>A fact for CPUs whose /proc/cpuinfo lists <paramref name="flag"/>: ONEDNN_MAX_CPU_ISA can only lower the instruction set.</summary>
public sealed class RequiresCpuFlagFactAttribute : FactAttribute
{
    public RequiresCpuFlagFactAttribute(string flag) => Skip = CpuFlags.Has(flag) ? null : $"this CPU lacks {flag}";
}

/// <summary>A theory for CPUs whose /proc/cpuinfo lists <paramref name="flag"/>.</summary>
public sealed class RequiresCpuFlagTheoryAttribute : TheoryAttribute
{
    public RequiresCpuFlagTheoryAttribute(string flag) => Skip = CpuFlags.Has(flag) ? null : $"this CPU lacks {flag}";
}

internal static class CpuFlags
{
    public static bool Has(string flag) => File.Exists("/proc/cpuinfo") &&
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal))?.Split(' ').Contains(flag) == true;
}

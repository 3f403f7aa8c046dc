using System.Diagnostics;
using Xunit.Sdk;

namespace Aavae.Tests;

/// <summary>A Debian package some tests need beyond the .NET SDK.</summary>
public enum Need
{
    /// <summary>Debian's python3-torch (with numpy): the PyTorch parity tests.</summary>
    PyTorch,
    /// <summary>Debian's python3-numpy: tests that read the project's .npy files back with numpy.</summary>
    Numpy,
    /// <summary>Debian's openmpi-bin and mpich: the data-parallel tests start both launchers.</summary>
    Mpi,
    /// <summary>Debian's python3-onnx: onnx.checker's full check of the exported models.</summary>
    Onnx,
    /// <summary>Debian's python3-pil (with numpy and WebP): pictures of every kind written by an encoder independent of the project's decoder.</summary>
    Pil,
    /// <summary>Debian's python3-sklearn: t-SNE and its trustworthiness, computed independently.</summary>
    Sklearn,
    /// <summary>Debian's chromium: a run's page opened in a real browser, headless.</summary>
    Chromium,
    /// <summary>Open MPI, MPICH, root and Debian's iproute2: two hosts made of network namespaces.</summary>
    Hosts,
}

/// <summary>
/// Whether this machine has what a test needs. On a fresh machine (the .NET SDK alone) those
/// tests are skipped with the install line as the reason (tests/run.sh, the README's test command, installs them when it can);
/// <c>.ci/run</c> runs it with <c>AAVAE_REQUIRE_ALL=1</c>, under which nothing
/// is skipped and a missing package fails its tests instead.
/// </summary>
public static class Requirements
{
    public const string RequireAllVariable = "AAVAE_REQUIRE_ALL";

    private static readonly Lazy<bool> HasTorch = new(() => PythonImports("torch, numpy"));
    private static readonly Lazy<bool> HasNumpy = new(() => PythonImports("numpy"));
    private static readonly Lazy<bool> HasOnnx = new(() => PythonImports("onnx"));
    private static readonly Lazy<bool> HasSklearn = new(() => PythonImports("numpy, sklearn.manifold"));
    private static readonly Lazy<bool> HasPil = new(() => PythonImports("numpy, PIL.WebPImagePlugin, PIL.features; assert PIL.features.check('webp')"));

    public static string? SkipReason(Need need)
    {
        if (Environment.GetEnvironmentVariable(RequireAllVariable) == "1") return null;
        return need switch
        {
            Need.PyTorch when !HasTorch.Value => "needs Debian's python3-torch: sudo apt-get install python3-torch (or set AAVAE_PYTHON)",
            Need.Numpy when !HasNumpy.Value => "needs numpy: sudo apt-get install python3-numpy (or set AAVAE_PYTHON)",
            Need.Onnx when !HasOnnx.Value => "needs Debian's python3-onnx: sudo apt-get install python3-onnx (or set AAVAE_PYTHON)",
            Need.Pil when !HasPil.Value => "needs Debian's python3-pil and python3-numpy: sudo apt-get install python3-pil python3-numpy (or set AAVAE_PYTHON)",
            Need.Sklearn when !HasSklearn.Value => "needs Debian's python3-sklearn: sudo apt-get install python3-sklearn (or set AAVAE_PYTHON)",
            Need.Chromium when !OnPath("chromium") => "needs Debian's chromium: sudo apt-get install chromium",
            Need.Mpi or Need.Hosts when !OnPath("mpirun.openmpi") || !OnPath("mpirun.mpich") => "needs Open MPI and MPICH: sudo apt-get install openmpi-bin mpich",
            Need.Hosts when Environment.UserName != "root" || !OnPath("ip") => "makes network namespaces: needs root and Debian's iproute2 (sudo apt-get install iproute2; run as root)",
            _ => null,
        };
    }

    private static bool OnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(d => File.Exists(Path.Combine(d, command)));

    private static bool PythonImports(string modules)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(ReferenceFixtures.Python, ["-c", $"import {modules}"])
            { RedirectStandardOutput = true, RedirectStandardError = true })!;
            p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            return p.WaitForExit(60_000) && p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}

/// <summary>A fact that runs only where <see cref="Need"/> is met (always under <c>AAVAE_REQUIRE_ALL=1</c>); its category says what it needs.</summary>
[TraitDiscoverer("Aavae.Tests.NeedCategoryDiscoverer", "Aavae.Tests")]
public sealed class RequiresFactAttribute : FactAttribute, ITraitAttribute
{
    public RequiresFactAttribute(Need need) => Skip = Requirements.SkipReason(need);
}

/// <summary>A theory that runs only where <see cref="Need"/> is met (always under <c>AAVAE_REQUIRE_ALL=1</c>); its category says what it needs.</summary>
[TraitDiscoverer("Aavae.Tests.NeedCategoryDiscoverer", "Aavae.Tests")]
public sealed class RequiresTheoryAttribute : TheoryAttribute, ITraitAttribute
{
    public RequiresTheoryAttribute(Need need) => Skip = Requirements.SkipReason(need);
}

/// <summary>
/// The test categories a developer filters on (<c>dotnet test --filter Category!=Slow</c> and so on):
/// Python and Mpi from what a test needs, Packaging and Slow marked on the tests.
/// </summary>
public static class Category
{
    public const string Name = "Category";
    /// <summary>Needs Debian's Python packages (PyTorch, numpy, onnx).</summary>
    public const string Python = "Python";
    /// <summary>Starts processes under Open MPI and MPICH.</summary>
    public const string Mpi = "Mpi";
    /// <summary>Packs the packages and builds projects from them (minutes).</summary>
    public const string Packaging = "Packaging";
    /// <summary>Over about ten seconds on 2 cores: training runs through the CLI, fuzzing, soaks.</summary>
    public const string Slow = "Slow";
}

/// <summary>Gives a <see cref="RequiresFactAttribute"/> or <see cref="RequiresTheoryAttribute"/> test the category of its need.</summary>
public sealed class NeedCategoryDiscoverer : ITraitDiscoverer
{
    public IEnumerable<KeyValuePair<string, string>> GetTraits(Xunit.Abstractions.IAttributeInfo traitAttribute)
    {
        var need = traitAttribute.GetConstructorArguments().OfType<Need>().Single();
        yield return new(Category.Name, need is Need.Mpi or Need.Hosts ? Category.Mpi : Category.Python);
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

/// <summary>A fact that needs a program at <paramref name="path"/> (a Debian package's), skipped with its name where it is missing.</summary>
public sealed class RequiresProgramFactAttribute : FactAttribute
{
    public RequiresProgramFactAttribute(string path, string package) => Skip = File.Exists(path) ? null : $"needs {path} (Debian's {package})";
}

/// <summary>A fact for machines with at least <paramref name="cores"/> logical cores (and Linux, whose /proc it reads).</summary>
public sealed class RequiresCoresFactAttribute : FactAttribute
{
    public RequiresCoresFactAttribute(int cores) => Skip = OperatingSystem.IsLinux() && Environment.ProcessorCount >= cores ? null : $"needs Linux and {cores} cores";
}

using System.Diagnostics;

namespace Aavae.Kernels;

/// <summary>
/// How to start the guard's trial process: a program that serves <see cref="KernelTrial"/> on its
/// standard input and output (<c>aavae kernel-trial</c>), with variables set for it beside this process's own.
/// </summary>
public sealed record TrialHost(string FileName, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string>? Environment = null)
{
    /// <summary>Names the program that serves trials: a path to <c>aavae.dll</c> (run by dotnet) or to an executable.</summary>
    public const string Variable = "AAVAE_TRIAL_HOST";

    /// <summary>oneDNN's cap on the instruction set it dispatches to; a trial process started under it runs a lower ISA's kernels.</summary>
    public const string IsaVariable = "ONEDNN_MAX_CPU_ISA";

    /// <summary>The <c>aavae</c> program at <paramref name="path"/>: an assembly run by the dotnet host, or an executable.</summary>
    public static TrialHost Program(string path) => path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
        ? new TrialHost("dotnet", [path, "kernel-trial"])
        : new TrialHost(path, ["kernel-trial"]);

    /// <summary>
    /// <see cref="Variable"/> when set, else the <c>aavae</c> program beside this one; null when there
    /// is none (a library used without the command-line program): then the guard runs its checks in
    /// this process, where a crashing kernel would end it.
    /// </summary>
    public static TrialHost? Discover()
    {
        if (System.Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path) return Program(path);
        var beside = Path.Combine(AppContext.BaseDirectory, "aavae.dll");
        return File.Exists(beside) ? Program(beside) : null;
    }

    /// <summary>The same program serving another of its child commands (<c>decode-pictures</c>) in place of <c>kernel-trial</c>.</summary>
    public TrialHost For(string command) => this with { Arguments = [.. Arguments.Take(Arguments.Count - 1), command] };

    /// <summary>The same program whose trials run oneDNN's kernels for <paramref name="isa"/> (e.g. AVX2) at most.</summary>
    public TrialHost CappedAt(string isa) =>
        this with { Environment = new Dictionary<string, string>(Environment ?? new Dictionary<string, string>()) { [IsaVariable] = isa } };

    public ProcessStartInfo StartInfo()
    {
        var info = new ProcessStartInfo(FileName)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in Arguments) info.ArgumentList.Add(a);
        foreach (var (name, value) in Environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        return info;
    }
}

using System.Diagnostics;

namespace Aavae.Tests;

/// <summary>Runs the built <c>aavae</c> program as a user would, capturing its output and exit code.</summary>
internal static class CliRunner
{
    public static string Program
    {
        get
        {
            // tests/Aavae.Tests/bin/<Configuration>/<tfm>/ -> src/Aavae.Cli/bin/<Configuration>/<tfm>/aavae.dll
            var baseDir = new DirectoryInfo(AppContext.BaseDirectory);
            var tfm = baseDir.Name;
            var configuration = baseDir.Parent!.Name;
            var root = baseDir.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
            return Path.Combine(root, "src", "Aavae.Cli", "bin", configuration, tfm, "aavae.dll");
        }
    }

    public static Process Start(string workingDirectory, params string[] args) => Start(workingDirectory, new Dictionary<string, string>(), args);

    /// <summary>
    /// The program with SIGINT at its default disposition, as an interactive shell starts it: a
    /// background job's children inherit SIGINT ignored, and .NET then never sees Ctrl-C.
    /// </summary>
    public static Process StartWithDefaultSigint(string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo("env") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--default-signal=INT", "dotnet", Program }.Concat(args)) info.ArgumentList.Add(a);
        return Process.Start(info)!;
    }

    /// <param name="environment">Variables set for the child beside this process's own.</param>
    public static Process Start(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Program);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (name, value) in environment) info.Environment[name] = value;
        return Process.Start(info)!;
    }

    public static (int Code, string Out, string Err) Run(string workingDirectory, params string[] args) =>
        Run(workingDirectory, new Dictionary<string, string>(), args);

    public static (int Code, string Out, string Err) Run(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        using var p = Start(workingDirectory, environment, args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(true); throw new TimeoutException($"aavae {string.Join(' ', args)} did not finish"); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}

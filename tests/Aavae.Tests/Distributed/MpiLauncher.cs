using System.Diagnostics;

namespace Aavae.Tests.Distributed;

/// <summary>
/// Debian's two MPI families (openmpi-bin, mpich), each started with its own launcher on this
/// machine. tests/run.sh installs both; a machine without them fails these tests with that advice.
/// </summary>
public sealed record MpiLauncher(string Name, string Command, string[] Arguments, Dictionary<string, string> Environment)
{
    public static readonly MpiLauncher OpenMpi = new("openmpi", "mpirun.openmpi", ["--oversubscribe"],
        // Containers and CI runners run tests as root, which Open MPI refuses unless told twice.
        new() { ["OMPI_ALLOW_RUN_AS_ROOT"] = "1", ["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1" });

    public static readonly MpiLauncher Mpich = new("mpich", "mpirun.mpich", [], []);

    public static MpiLauncher Get(string name) => name == OpenMpi.Name ? OpenMpi : Mpich;

    public static string Worker => Path.Combine(Path.GetDirectoryName(CliRunner.Program)!.Replace(Path.Combine("src", "Aavae.Cli"), Path.Combine("tests", "Aavae.MpiWorker")), "Aavae.MpiWorker.dll");

    /// <summary>Starts <c>dotnet program args</c> as <paramref name="processes"/> MPI processes (or alone with 0).</summary>
    public Process Start(int processes, string program, IEnumerable<string> args, string workingDirectory)
    {
        var path = System.Environment.GetEnvironmentVariable("PATH") ?? "";
        if (processes > 0 && !path.Split(':').Any(d => File.Exists(System.IO.Path.Combine(d, Command))))
            throw new InvalidOperationException($"{Command} is not installed: apt-get install openmpi-bin mpich (tests/run.sh does)");
        var info = new ProcessStartInfo(processes > 0 ? Command : "dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        if (processes > 0)
        {
            foreach (var a in Arguments) info.ArgumentList.Add(a);
            info.ArgumentList.Add("-np");
            info.ArgumentList.Add(processes.ToString());
            info.ArgumentList.Add("dotnet");
        }
        info.ArgumentList.Add(program);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in Environment) info.Environment[k] = v;
        return Process.Start(info)!;
    }

    /// <summary>Runs to the end (at most <paramref name="timeout"/>): exit code, stdout, stderr.</summary>
    public (int Code, string Out, string Err) Run(int processes, string program, IEnumerable<string> args, string workingDirectory, TimeSpan? timeout = null)
    {
        using var p = Start(processes, program, args, workingDirectory);
        return Finish(p, timeout ?? TimeSpan.FromMinutes(3));
    }

    public static (int Code, string Out, string Err) Finish(Process p, TimeSpan timeout)
    {
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{p.StartInfo.FileName} {string.Join(' ', p.StartInfo.ArgumentList)} did not finish in {timeout}");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>The worker's "rank R key value" lines, by rank.</summary>
    public static Dictionary<int, Dictionary<string, string>> Lines(string output)
    {
        var result = new Dictionary<int, Dictionary<string, string>>();
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(output, @"rank (\d+) (\w+) (\S+)"))
        {
            int rank = int.Parse(m.Groups[1].Value);
            if (!result.TryGetValue(rank, out var d)) result[rank] = d = [];
            d[m.Groups[2].Value] = m.Groups[3].Value;
        }
        return result;
    }

    /// <summary>The process ids of the ranks whose command line mentions <paramref name="marker"/> (dotnet processes, not the launcher).</summary>
    public static List<int> Ranks(string marker) =>
        Directory.EnumerateDirectories("/proc").Select(d => Path.GetFileName(d)).Where(n => n.All(char.IsDigit)).Select(int.Parse)
            .Where(pid =>
            {
                try
                {
                    var argv = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
                    return Path.GetFileName(argv[0]) == "dotnet" && argv.Any(a => a.Contains(marker, StringComparison.Ordinal));
                }
                catch (IOException) { return false; }
                catch (UnauthorizedAccessException) { return false; }
            }).ToList();

    /// <summary>The ranks still alive after up to <paramref name="seconds"/>: a launcher may return while its processes are being torn down.</summary>
    public static List<int> RanksLeft(string marker, int seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        var left = Ranks(marker);
        while (left.Count > 0 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(200);
            left = Ranks(marker);
        }
        return left;
    }

    public override string ToString() => Name;
}

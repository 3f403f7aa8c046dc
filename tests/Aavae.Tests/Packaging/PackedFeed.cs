using System.Diagnostics;

namespace Aavae.Tests.Packaging;

/// <summary>
/// The library packages (Aavae.Core, Aavae.Onnx and the Aavae.Embedding both use) and the tool package, packed once per test class from a copy of the repository's
/// sources (so the binaries other tests run stay as built) into a local feed, under a version of
/// their own so the NuGet cache never hands back an older package of the same number.
/// </summary>
public sealed class PackedFeed
{
    private readonly Lazy<string> feed;

    public PackedFeed()
    {
        Version = $"{ReleasedVersion}-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        feed = new Lazy<string>(Pack);
    }

    /// <summary>The repository's root: the folder of Aavae.slnx above the built CLI.</summary>
    public static string Root => new DirectoryInfo(Path.GetDirectoryName(CliRunner.Program)!).Parent!.Parent!.Parent!.Parent!.Parent!.FullName;

    /// <summary>The version Directory.Build.props gives library and tool.</summary>
    public static string ReleasedVersion =>
        System.Text.RegularExpressions.Regex.Match(File.ReadAllText(Path.Combine(Root, "Directory.Build.props")), "<Version>([^<]+)</Version>").Groups[1].Value;

    public string Version { get; }

    public string Feed => feed.Value;

    private string Pack()
    {
        var copy = Directory.CreateDirectory(Path.Combine(TempDir.Create(), "repo")).FullName;
        foreach (var file in new[] { "Directory.Build.props", "Directory.Build.targets", ".editorconfig" })
            if (File.Exists(Path.Combine(Root, file))) File.Copy(Path.Combine(Root, file), Path.Combine(copy, file));
        foreach (var dir in new[] { "src", "build", "data" }) CopyTree(Path.Combine(Root, dir), Path.Combine(copy, dir));
        var output = Path.Combine(TempDir.Create(), "feed");
        foreach (var project in new[] { "src/Aavae.Embedding", "src/Aavae.Onnx", "src/Aavae.Core", "src/Aavae.Cli" })
            Run("dotnet", ["pack", Path.Combine(copy, project), "-c", "Release", "-o", output, $"-p:Version={Version}"], copy, TimeSpan.FromMinutes(8));
        return output;
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.EnumerateDirectories(from))
            if (Path.GetFileName(dir) is not ("bin" or "obj")) CopyTree(dir, Path.Combine(to, Path.GetFileName(dir)));
    }

    /// <summary>A new console project outside the repository with <paramref name="packages"/> added from the feed (the feed's
    /// own at its version, others at the version given), <paramref name="program"/> as its Program.cs.</summary>
    public string NewConsumer(string work, string program, params (string Id, string? Version)[] packages)
    {
        var project = Path.Combine(work, "consumer");
        Run("dotnet", ["new", "console", "-o", project, "--no-restore"], work, TimeSpan.FromMinutes(2));
        File.WriteAllText(Path.Combine(project, "nuget.config"),
            $"<configuration><packageSources><add key=\"aavae-test\" value=\"{Feed}\" /></packageSources></configuration>");
        foreach (var (id, version) in packages)
            Run("dotnet", ["add", "package", id, "--version", version ?? Version], project, TimeSpan.FromMinutes(10));
        File.Copy(program, Path.Combine(project, "Program.cs"), overwrite: true);
        return project;
    }

    /// <summary>What a restore of <paramref name="project"/> brought: its packages (from obj/project.assets.json) and their size on disk in the NuGet packages folder.</summary>
    public static (string[] Packages, long Bytes) RestoreSize(string project)
    {
        using var assets = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(project, "obj", "project.assets.json")));
        var folder = assets.RootElement.GetProperty("packageFolders").EnumerateObject().First().Name;
        var packages = assets.RootElement.GetProperty("libraries").EnumerateObject()
            .Where(l => l.Value.GetProperty("type").GetString() == "package")
            .Select(l => (l.Name, Path: Path.Combine(folder, l.Value.GetProperty("path").GetString()!))).ToArray();
        long bytes = packages.Sum(p => new DirectoryInfo(p.Path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length));
        return (packages.Select(p => p.Name).ToArray(), bytes);
    }

    /// <summary>Runs a program to its end; fails the test with its output when it fails.</summary>
    public static string Run(string program, IEnumerable<string> args, string workingDirectory, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in {timeout}");
        }
        if (p.ExitCode != 0) throw new Xunit.Sdk.XunitException($"{program} {string.Join(' ', args)} exited with {p.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
        return stdout.Result;
    }
}

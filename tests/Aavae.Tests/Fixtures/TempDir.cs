namespace Aavae.Tests;

/// <summary>
/// A fresh folder for one test's files, under this test process's own folder in the system temp
/// directory. The process's folder is deleted when it exits, and folders of test processes that
/// died without cleaning up are deleted when the next one starts: packed feeds and training runs
/// would otherwise fill a developer's disk over a few runs of the suite.
/// </summary>
public static class TempDir
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var parent = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "aavae-tests")).FullName;
        foreach (var dir in Directory.EnumerateDirectories(parent))
            if (int.TryParse(Path.GetFileName(dir).Split('-')[0], out int pid) && !Alive(pid)) TryDelete(dir);
        var root = Directory.CreateDirectory(Path.Combine(parent, $"{Environment.ProcessId}-{Guid.NewGuid():N}")).FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(root);
        return root;
    });

    public static string Create() => Directory.CreateDirectory(Path.Combine(Root.Value, Guid.NewGuid().ToString("N"))).FullName;

    private static bool Alive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another process's files, or one still open: left for the next run.
        }
    }
}

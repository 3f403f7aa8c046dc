using System.Globalization;

namespace Aavae.Runs;

/// <summary>The run folder is locked by another live process, or cannot be written; the message names the folder (and the holder).</summary>
public sealed class RunFolderException(string message) : IOException(message);

/// <summary>
/// A run folder belongs to one live run. The lock is an OS file lock on <c>.lock</c> in the
/// folder (flock on Linux and macOS, a share-mode lock on Windows), held for the run's lifetime:
/// the kernel drops it when the process dies, so a killed run leaves no stale lock. The holder's
/// process id sits beside it in <c>.lock.pid</c> (a locked file cannot be read by another process
/// on every platform), and the refusal names it. Taking the lock also removes the temporary files
/// that a dead process's interrupted atomic writes left (<c>.NAME.PID.tmp</c>).
/// </summary>
public sealed class RunLock : IDisposable
{
    private readonly FileStream stream;
    private readonly string pidFile;

    private RunLock(FileStream stream, string pidFile)
    {
        this.stream = stream;
        this.pidFile = pidFile;
    }

    public static string LockFile(string folder) => Path.Combine(folder, ".lock");

    /// <summary>Creates the folder if needed and locks it; a <see cref="RunFolderException"/> when another process holds it or the folder cannot be written.</summary>
    public static RunLock Acquire(string folder)
    {
        FileStream stream;
        try
        {
            Directory.CreateDirectory(folder);
            stream = new FileStream(LockFile(folder), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (UnauthorizedAccessException)
        {
            throw new RunFolderException($"run folder {folder}: this user may not write there");
        }
        catch (IOException) when (File.Exists(LockFile(folder)))
        {
            throw new RunFolderException($"run folder {folder} is in use by {Holder(folder)}: wait for it to finish or stop it, or pass another --output");
        }
        catch (IOException e)
        {
            throw new RunFolderException($"run folder {folder}: cannot write there ({e.Message.ReplaceLineEndings(" ")})");
        }
        var pidFile = Path.Combine(folder, ".lock.pid");
        try
        {
            File.WriteAllText(pidFile, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            RemoveDeadTemporaries(folder);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        return new RunLock(stream, pidFile);
    }

    private static string Holder(string folder)
    {
        try
        {
            var pid = File.ReadAllText(Path.Combine(folder, ".lock.pid")).Trim();
            return $"process {pid}";
        }
        catch (IOException)
        {
            return "another process";
        }
    }

    /// <summary>
    /// Atomic writes name their temporary file after the writing process; one whose process is gone
    /// was interrupted (a second SIGTERM, a kill) and nothing else will remove it.
    /// </summary>
    private static void RemoveDeadTemporaries(string folder)
    {
        foreach (var dir in new[] { folder, Path.Combine(folder, "checkpoints") }.Where(Directory.Exists))
        foreach (var file in Directory.EnumerateFiles(dir, ".*.tmp"))
        {
            var parts = Path.GetFileName(file).Split('.');
            if (parts.Length >= 4 && int.TryParse(parts[^2], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && !Alive(pid))
                File.Delete(file);
        }
    }

    private static bool Alive(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        try
        {
            File.Delete(pidFile);
        }
        catch (IOException)
        {
        }
        stream.Dispose();
    }
}

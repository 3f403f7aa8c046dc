using System.Runtime.InteropServices;

namespace Aavae.Distributed;

/// <summary>
/// The pipes a launcher reads a process's output through. MPICH's launcher polls a process's
/// output pipes and its abort request together and may act on the abort first, dropping the
/// line that said why; so before MPI_Abort a process waits until the launcher has read what
/// it wrote (the pipe holds no unread bytes), for a bounded time.
/// </summary>
internal static class LauncherPipes
{
    private const ulong FionRead = 0x541B;

    public static void WaitUntilRead(TimeSpan atMost)
    {
        var deadline = DateTime.UtcNow + atMost;
        foreach (int fd in (int[])[1, 2])
            while (Unread(fd) > 0 && DateTime.UtcNow < deadline) Thread.Sleep(10);
    }

    /// <summary>Bytes written to <paramref name="fd"/> and not yet read, when it is a pipe; 0 otherwise (a terminal, a file).</summary>
    private static int Unread(int fd)
    {
        string target;
        try { target = new FileInfo($"/proc/self/fd/{fd}").LinkTarget ?? ""; }
        catch (IOException) { return 0; }
        catch (UnauthorizedAccessException) { return 0; }
        if (!target.StartsWith("pipe:", StringComparison.Ordinal)) return 0;
        int count = 0;
        return ioctl(fd, FionRead, ref count) == 0 ? count : 0;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int ioctl(int fd, ulong request, ref int count);
}

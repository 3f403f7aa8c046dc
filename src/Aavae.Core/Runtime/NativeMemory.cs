using System.Runtime.InteropServices;

namespace Aavae.Runtime;

/// <summary>
/// Hands freed native memory back to the operating system. libtorch allocates through glibc's
/// malloc, which keeps freed blocks of a step's activations in its heaps; over a long run the
/// process's resident memory creeps up although no tensor leaks. <c>malloc_trim</c> returns the
/// free pages (at the top of the heap and, since glibc 2.8, inside it). No-op off glibc.
/// </summary>
public static class NativeMemory
{
    private static readonly bool Available = OperatingSystem.IsLinux() && Probe();

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    private static bool Probe()
    {
        try
        {
            MallocTrim(0);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Returns free heap pages to the system; true when glibc did so.</summary>
    public static bool Trim() => Available && MallocTrim(0) != 0;
}

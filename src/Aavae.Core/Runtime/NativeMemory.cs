using System.Runtime.InteropServices;

namespace Aavae.Runtime;

/// <summary>
/// glibc malloc settings for libtorch's CPU tensors, and handing freed memory back.
/// <para>
/// Every training step frees and re-allocates the same few hundred megabytes of activations.
/// With glibc's defaults, free space at the heap top beyond the trim threshold (128 KB, rising
/// to at most 64 MB) goes back to the system on each free, so the next step faults every page
/// in again and the kernel zeroes it (bench/NOTES.md measures the cost).
/// <see cref="TuneAllocator"/> raises the trim threshold so freed activations stay in the heap
/// for the next step, and turns glibc's mmap off, so that tensors of any size come from the heap:
/// a block above the mmap threshold (at most 32 MB) would otherwise be mapped afresh at each
/// allocation and faulted in again, as a batch of 256 evaluation images is from width 32 on.
/// Memory then stays at the step's high-water mark;
/// the trainer gives it back with <see cref="Trim"/> every few dozen steps and after evaluation.
/// </para>
/// No-op off glibc, and when the user set glibc's own MALLOC_* variables or AAVAE_MALLOC_TUNING=0.
/// </summary>
public static class NativeMemory
{
    private const int M_TRIM_THRESHOLD = -1;
    private const int M_MMAP_THRESHOLD = -3;
    private const int M_MMAP_MAX = -4;
    /// <summary>glibc's ceiling for the mmap threshold on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX).</summary>
    private const int MmapThreshold = 32 << 20;

    private static readonly bool Available = OperatingSystem.IsLinux() && Probe();
    private static readonly Lazy<bool> Tuned = new(Tune);

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int MallOpt(int param, int value);

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

    /// <summary>Keeps freed activations in the heap between steps (see the class remarks); true when the settings are in force. Idempotent.</summary>
    public static bool TuneAllocator() => Tuned.Value;

    private static bool Tune()
    {
        if (!Available || Environment.GetEnvironmentVariable("AAVAE_MALLOC_TUNING") == "0") return false;
        // The user's own glibc settings win.
        foreach (var name in new[] { "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_" })
            if (Environment.GetEnvironmentVariable(name) is not null) return false;
        if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES")?.Contains("glibc.malloc.", StringComparison.Ordinal) == true) return false;
        // Setting either threshold fixes both (glibc stops adjusting them dynamically), so set both;
        // no mmapped blocks at all, so that large tensors are reused from the heap like the rest.
        return MallOpt(M_MMAP_THRESHOLD, MmapThreshold) == 1 && MallOpt(M_TRIM_THRESHOLD, int.MaxValue) == 1
            && MallOpt(M_MMAP_MAX, 0) == 1;
    }
}

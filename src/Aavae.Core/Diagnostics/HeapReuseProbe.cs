using System.Globalization;
using Aavae.Runtime;
using static TorchSharp.torch;

namespace Aavae.Diagnostics;

/// <summary>How many of a tensor's pages the kernel had to fault in when it was allocated where a larger one had just been freed.</summary>
public sealed record HeapReuse(long Bytes, long FreedBytes, long Faults)
{
    public long Pages => Bytes / Environment.SystemPageSize;

    /// <summary>Reused from the heap: at most a sixteenth of the pages faulted in again (mapped afresh, all of them are).</summary>
    public bool Reused => Faults <= Pages / 16;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"a {Bytes >> 20} MB tensor allocated after a {FreedBytes >> 20} MB one was freed faulted in {Faults:N0} of its {Pages:N0} pages ({(Reused ? "reused from the heap" : "mapped afresh")})");
}

/// <summary>
/// Measures whether <see cref="NativeMemory.TuneAllocator"/> is in force where it matters: a tensor
/// larger than glibc's largest mmap threshold (32 MB), as an evaluation batch is from width 32 on,
/// allocated after a slightly larger one was freed. Mapped afresh, every page faults in again; reused from the
/// heap, hardly any do.
/// <para>
/// Meaningful on the process's main thread only, which allocates from glibc's main heap, as the
/// command line does. Other threads get arenas of 64 MB heaps that glibc unmaps once wholly free, so
/// there the figure would depend on what the thread had allocated before.
/// </para>
/// </summary>
public static class HeapReuseProbe
{
    /// <summary>40 MB of float32: above the mmap threshold, below a thread arena's heap.</summary>
    private const long Floats = 10L << 20;
    private const long FreedFloats = Floats + (1L << 18);

    /// <returns>Null where the kernel keeps no fault count (no /proc/self/stat).</returns>
    public static HeapReuse? Measure()
    {
        if (!File.Exists("/proc/self/stat")) return null;
        TorchRuntime.EnsureLoaded();
        // The first block a little larger: a freed block serves a request no larger than itself, and
        // libtorch's 64-byte-aligned requests ask glibc for a few bytes more than the block they freed.
        using (var first = empty(FreedFloats)) first.fill_(Scalars.One);
        long before = MinorFaults();
        using (var second = empty(Floats)) second.fill_(Scalars.One);
        return new HeapReuse(Floats * sizeof(float), FreedFloats * sizeof(float), MinorFaults() - before);
    }

    /// <summary>The process's minor page faults so far (minflt).</summary>
    private static long MinorFaults() => SelfStat.Field(File.ReadAllText("/proc/self/stat"), 10);
}

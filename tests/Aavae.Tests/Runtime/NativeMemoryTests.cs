using Aavae.Runtime;
using static TorchSharp.torch;

namespace Aavae.Tests.Runtime;

public class NativeMemoryTests
{
    /// <summary>The kernel's count of this process's minor page faults (/proc/self/stat, field 10).</summary>
    private static long MinorFaults()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        // Fields after the command name, which is in parentheses and may hold spaces.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7]);
    }

    [Fact]
    public void ALargeTensorIsReusedFromTheHeapWithoutFaultingItsPagesInAgain()
    {
        TorchRuntime.EnsureLoaded();
        Assert.True(NativeMemory.TuneAllocator(), "glibc's malloc was not tuned (AAVAE_MALLOC_TUNING=0 or MALLOC_* set?)");
        // 40 MB: above glibc's largest mmap threshold (32 MB), below the 64 MB heap of the arena a
        // thread other than the main one allocates from (glibc maps anything larger there anyway).
        const long floats = 10L << 20;
        const long pages = floats * sizeof(float) / 4096;
        // The test runs off the main thread, in one of glibc's per-thread arenas, which unmaps a heap
        // as soon as all of it is free; a small tensor allocated after the large one keeps the heap,
        // as a training step's other tensors do (the command line trains on the main thread's heap).
        // The first block a little larger: a block freed in the heap serves a request no larger than
        // itself (libtorch's 64-byte-aligned requests ask a few bytes more than the block they freed).
        var first = empty(floats + (1L << 20));
        first.fill_(1.0f);
        using var pin = empty(1L << 18); // 1 MB: too large for a free list, so it comes from the heap just after
        first.Dispose();
        long before = MinorFaults();
        using (var second = empty(floats)) second.fill_(2.0f);
        long faults = MinorFaults() - before;
        // Mapped afresh, the block would fault in all of its 10,240 pages again; reused, hardly any.
        Assert.True(faults < pages / 16, $"{faults} minor faults for a {pages}-page tensor allocated a second time");
    }
}

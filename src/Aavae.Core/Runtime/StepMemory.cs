namespace Aavae.Runtime;

/// <summary>
/// Memory upkeep between the steps of a long loop, so resident memory stays flat.
/// <para>
/// A gen-0 collection every <paramref name="collectEvery"/> steps: TorchSharp releases some native
/// objects of a step (its optimizer's temporaries, implicit scalars) only in finalizers, and with a
/// managed heap this small the GC almost never runs on its own. Each such object is a few dozen
/// bytes of glibc heap, but scattered between the step's freed activations they keep them from
/// coalescing, and a run's memory would grow step by step (bench/NOTES.md measures it).
/// </para>
/// <para>malloc_trim every <paramref name="trimEvery"/> steps hands freed heap pages back to the system.</para>
/// </summary>
public sealed class StepMemory(int collectEvery = 1, int trimEvery = StepMemory.DefaultTrimEvery)
{
    /// <summary>Steps between trims: rare enough to cost nothing measurable, often enough to hold memory flat.</summary>
    public const int DefaultTrimEvery = 50;

    private long steps;

    /// <summary>Call after each step, once its dispose scope has ended.</summary>
    public void AfterStep()
    {
        steps++;
        if (collectEvery > 0 && steps % collectEvery == 0) GC.Collect(0);
        if (trimEvery > 0 && steps % trimEvery == 0) NativeMemory.Trim();
    }
}

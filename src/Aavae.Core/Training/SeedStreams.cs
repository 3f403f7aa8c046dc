using Aavae.Data;

namespace Aavae.Training;

/// <summary>
/// The independent random streams of a run, each derived from its seed, so that one consumer
/// (prefetching, a monitor switched on) never shifts another's draws.
/// </summary>
public static class SeedStreams
{
    /// <summary>The online probe's labelled batch at a step: which images, and their views.</summary>
    public static Random OnlineProbe(int seed, long step) => new(BatchLoader<ViewBatch>.DerivedSeed(seed, (int)step, -2));

    /// <summary>The views of data-parallel process <paramref name="rank"/>'s part of the online probe's batch at a step.</summary>
    public static Random OnlineProbe(int seed, long step, int rank) => new(BatchLoader<ViewBatch>.DerivedSeed(seed, (int)step, -3 - rank));

    /// <summary>The validation loader's seed (its views are the deterministic original, but the SimCLR view of the grids is drawn).</summary>
    public static int Validation(int seed) => seed ^ 0x5EED;
}

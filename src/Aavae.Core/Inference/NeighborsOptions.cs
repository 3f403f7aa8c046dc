using Aavae.Configuration;

namespace Aavae.Inference;

/// <summary>How <c>aavae neighbors</c> searches: how many neighbours per query, or the similarity that makes near-duplicates.</summary>
public sealed record NeighborsOptions
{
    [Setting("neighbours to find for each query", Min = 1)]
    public int K { get; init; } = 8;

    /// <summary>Null: find neighbours of the queries instead.</summary>
    [Setting("write the groups of pictures whose cosine similarity is at least T instead of the queries' neighbours", Min = 0, MinExclusive = true, Max = 1)]
    public double? Duplicates { get; init; }

    [Setting("side of each picture in the grid of queries and neighbours", Min = 8, Max = 512)]
    public int Thumbnail { get; init; } = 64;
}

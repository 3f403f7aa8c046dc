using System.Text.Json.Serialization;

namespace Aavae.Bench;

/// <summary>One worker run of one row, as both the C# and the PyTorch worker print it (one JSON line).</summary>
public sealed record Measurement(
    [property: JsonPropertyName("row")] string Row,
    [property: JsonPropertyName("impl")] string Impl,
    [property: JsonPropertyName("images_per_second")] double ImagesPerSecond,
    [property: JsonPropertyName("median_seconds")] double MedianSeconds,
    [property: JsonPropertyName("peak_rss_mb")] double PeakRssMb,
    [property: JsonPropertyName("rss_after_warmup_mb")] double RssAfterWarmupMb,
    [property: JsonPropertyName("rss_end_mb")] double RssEndMb,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("rss_max_after_warmup_mb")] double RssMaxAfterWarmupMb = 0,
    [property: JsonPropertyName("rss_warmup_cycle_peak_mb")] double RssWarmupCyclePeakMb = 0)
{
    /// <summary>The most resident memory rose above its post-warm-up level at any step, in percent.</summary>
    public double MaxGrowthPercent => RssAfterWarmupMb > 0 ? 100 * (RssMaxAfterWarmupMb - RssAfterWarmupMb) / RssAfterWarmupMb : 0;

    /// <summary>The most resident memory rose above the top of its last warm-up cycle (the steps between two of the trainer's
    /// malloc trims, over which it saws up and down), in percent: growth, with the saw's height taken out.</summary>
    public double MaxGrowthOverCyclePercent => RssWarmupCyclePeakMb > 0 ? 100 * (RssMaxAfterWarmupMb - RssWarmupCyclePeakMb) / RssWarmupCyclePeakMb : 0;

    /// <summary>Growth of resident memory from the end of warm-up to the last step, in percent.</summary>
    public double DriftPercent => RssAfterWarmupMb > 0 ? 100 * (RssEndMb - RssAfterWarmupMb) / RssAfterWarmupMb : 0;
}

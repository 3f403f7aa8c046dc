using Aavae.Augmentation;
using Aavae.Configuration;
using Aavae.Data;
using static TorchSharp.torch;

namespace Aavae.Visualization;

/// <summary>A picture of what the encoder is fed: original images and their SimCLR views (<c>aavae show-views</c>).</summary>
public sealed record ViewGridOptions
{
    [Setting("number of images (columns)", Min = 1)]
    public int Images { get; init; } = 8;
    [Setting("augmented views per image (rows after the originals)", Min = 1)]
    public int Views { get; init; } = 4;
    [Setting("random seed for choosing images and augmentations")]
    public int Seed { get; init; }

    public void Validate() => Settings.Check(this);
}

/// <summary>Writes the grid of <see cref="ViewGridOptions"/>: a first row of originals, then a row for each view.</summary>
public static class ViewGrid
{
    public static void WritePng(string path, DataModule data, Views pipeline, ViewGridOptions options)
    {
        options.Validate();
        var rng = new Random(options.Seed);
        var pick = Enumerable.Range(0, options.Images).Select(_ => (long)rng.Next(data.Train.Count)).ToArray();
        using var scope = NewDisposeScope();
        var (batch, _) = data.Train.GetBatch(pick);
        var unit = pipeline.ToUnitRange(batch);
        var rows = new List<Tensor> { pipeline.Original(unit) };
        for (int i = 0; i < options.Views; i++) rows.Add(pipeline.Augmented(unit, rng));
        ImageGrid.WritePng(path, rows, data.Info.Normalization);
    }
}

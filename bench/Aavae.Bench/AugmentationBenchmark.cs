using System.Diagnostics;
using Aavae.Augmentation;
using Aavae.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Bench;

public sealed record AugmentationResult(string Name, int Batch, double ImagesPerSecond);

/// <summary>Images per second of the SimCLR + original views alone (uint8 batch in, normalised views out).</summary>
public static class AugmentationBenchmark
{
    public static AugmentationResult Run(DatasetInfo dataset, int batch, int repeats)
    {
        var views = new Views(dataset, CPU);
        manual_seed(0);
        using var images = randint(0, 256, [batch, 3, dataset.InputHeight, dataset.InputHeight], dtype: ScalarType.Byte);
        var rng = new Random(0);
        var times = new List<double>();
        for (int i = 0; i < repeats + 1; i++)
        {
            var sw = Stopwatch.StartNew();
            using (NewDisposeScope()) views.Pretraining(images, denoising: true, rng);
            if (i > 0) times.Add(sw.Elapsed.TotalSeconds);
        }
        times.Sort();
        return new AugmentationResult($"{dataset.Name} {dataset.InputHeight}x{dataset.InputHeight}", batch, batch / times[times.Count / 2]);
    }
}

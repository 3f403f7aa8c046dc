using Aavae.Configuration;
using Aavae.Data;
using Aavae.Models;
using Aavae.Runtime;
using static TorchSharp.torch;

namespace Aavae.Evaluation;

/// <summary>A frozen feature map that is not a trained encoder, with its feature size and a line saying what it is.</summary>
public sealed record Baseline(nn.Module<Tensor, Tensor> Features, int FeatureDim, string Description) : IDisposable
{
    public void Dispose() => Features.Dispose();
}

/// <summary>The floors a learned encoder must clear: the same architecture untrained, and raw pixels (logistic regression).</summary>
public static class Baselines
{
    public static IReadOnlyList<string> Names { get; } = ["random", "pixels"];

    /// <param name="which">random or pixels.</param>
    /// <param name="encoder">The architecture of the random baseline (resnet18, ...).</param>
    /// <param name="seed">Fixes the random baseline's initialisation.</param>
    public static Baseline Create(string which, DatasetInfo data, string encoder, int width, int seed)
    {
        switch (which)
        {
            case "random":
                Determinism.Seed(seed);
                var random = new ResNetEncoder(Architecture.Encoder(encoder), data.Stem, width);
                return new Baseline(random, random.FeatureDim, $"randomly initialised {random.Spec.Name}, width {random.Width} (seed {seed})");
            case "pixels":
                var pixels = new RawPixels(3, data.InputHeight, data.InputHeight);
                return new Baseline(pixels, pixels.FeatureDim, $"logistic regression on {pixels.FeatureDim} normalised pixels");
            default:
                throw new OptionException("Baseline", $"{which}: expected {string.Join(" or ", Names)}");
        }
    }
}

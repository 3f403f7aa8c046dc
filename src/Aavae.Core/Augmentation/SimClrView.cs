using Aavae.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Augmentation;

/// <summary>
/// The SimCLR view the encoder sees in AAVAE (the reference's SimCLRTransform, src/transforms/transforms.py), on a batch of [0, 1] RGB images,
/// each image drawing its own parameters: RandomResizedCrop (scale 0.08-1, ratio 3/4-4/3,
/// bilinear) and flip p=0.5, ColorJitter p=0.8 (strength s: brightness, contrast and saturation
/// 0.8 s, hue 0.2 s, in a random order per image), grayscale p=0.2, Gaussian blur p=0.5 with
/// sigma in [0.1, 2] where asked. Normalisation is left to the caller.
/// </summary>
/// <param name="cropScale">Smallest share of the picture's area a crop keeps (the reference: 0.08).</param>
public sealed class SimClrView(int size, double jitterStrength, bool blur, double cropScale = 0.08)
{
    public const double FlipP = 0.5, JitterP = 0.8, GrayscaleP = 0.2, BlurP = 0.5;
    public static readonly (double Min, double Max) Scale = (0.08, 1.0);
    public static readonly (double Min, double Max) Ratio = (3.0 / 4.0, 4.0 / 3.0);
    public static readonly (double Min, double Max) Sigma = (0.1, 2.0);

    public int Size { get; } = size;
    public double JitterStrength { get; } = jitterStrength;
    public bool Blur { get; } = blur;
    public int BlurKernel { get; } = GaussianBlur.KernelSize(size);
    /// <summary>The RandomResizedCrop's range of area shares: (cropScale, 1).</summary>
    public (double Min, double Max) CropScale { get; } = cropScale > 0 && cropScale <= 1 ? (cropScale, Scale.Max)
        : throw new ArgumentOutOfRangeException(nameof(cropScale), $"crop scale must lie in (0, 1], got {cropScale}");

    /// <summary>Per-image parameters, drawn in a fixed order so a seed reproduces a batch.</summary>
    public sealed record Parameters(
        CropBox[] Boxes, bool[] Flips, bool[] Jitter, int[][] JitterOrder,
        float[] Brightness, float[] Contrast, float[] Saturation, float[] Hue,
        bool[] Grayscale, bool[] Blurred, float[] Sigmas)
    {
        /// <summary>The parameters of the images at <paramref name="positions"/>: a process's part of a batch drawn whole.</summary>
        public Parameters Slice(int[] positions)
        {
            T[] Take<T>(T[] values) => Array.ConvertAll(positions, i => values[i]);
            return new Parameters(Take(Boxes), Take(Flips), Take(Jitter), Take(JitterOrder), Take(Brightness), Take(Contrast),
                Take(Saturation), Take(Hue), Take(Grayscale), Take(Blurred), Take(Sigmas));
        }
    }

    public Parameters Sample(Random rng, int batch, int height, int width) =>
        Sample(rng, Enumerable.Repeat((height, width), batch).ToArray());

    /// <summary>Per-image parameters for images of different sizes: each crop box is drawn within its own image.</summary>
    public Parameters Sample(Random rng, IReadOnlyList<(int Height, int Width)> sizes)
    {
        int batch = sizes.Count;
        double b = 0.8 * JitterStrength, h = 0.2 * JitterStrength;
        var p = new Parameters(new CropBox[batch], new bool[batch], new bool[batch], new int[batch][],
            new float[batch], new float[batch], new float[batch], new float[batch],
            new bool[batch], new bool[batch], new float[batch]);
        for (int i = 0; i < batch; i++)
        {
            p.Boxes[i] = Geometry.SampleResizedCrop(rng, sizes[i].Height, sizes[i].Width, CropScale, Ratio);
            p.Flips[i] = rng.NextDouble() < FlipP;
            p.Jitter[i] = rng.NextDouble() < JitterP;
            p.JitterOrder[i] = Permutation4(rng);
            p.Brightness[i] = Uniform(rng, Math.Max(0, 1 - b), 1 + b);
            p.Contrast[i] = Uniform(rng, Math.Max(0, 1 - b), 1 + b);
            p.Saturation[i] = Uniform(rng, Math.Max(0, 1 - b), 1 + b);
            p.Hue[i] = Uniform(rng, -h, h);
            p.Grayscale[i] = rng.NextDouble() < GrayscaleP;
            p.Blurred[i] = Blur && rng.NextDouble() < BlurP;
            p.Sigmas[i] = Uniform(rng, Sigma.Min, Sigma.Max);
        }
        return p;
    }

    public Tensor Apply(Tensor x, Random rng) => Apply(x, Sample(rng, (int)x.shape[0], (int)x.shape[2], (int)x.shape[3]));

    public Tensor Apply(Tensor x, Parameters p) => AfterCrop(Geometry.ResizedCrop(x, p.Boxes, p.Flips, Size), p);

    /// <summary>Everything after the crop and flip: jitter, grayscale, blur; for crops already cut (from full images).</summary>
    public Tensor AfterCrop(Tensor x, Parameters p)
    {
        x = ColorJitter(x, p);
        var gray = tensor(p.Grayscale, device: x.device).view(-1, 1, 1, 1);
        x = where(gray, ColorOps.Grayscale(x).expand_as(x), x);
        if (p.Blurred.Any(v => v))
            x = ApplyToSubset(x, p.Blurred, (sub, idx) => GaussianBlur.Apply(sub, Select(p.Sigmas, idx, x.device), BlurKernel));
        return x;
    }

    // The four jitter operations run in four rounds; in round k each jittered image gets the
    // operation at position k of its own order, so every image sees its own permutation.
    private static Tensor ColorJitter(Tensor x, Parameters p)
    {
        Func<Tensor, int[], Tensor>[] ops =
        [
            (sub, idx) => ColorOps.Brightness(sub, Select(p.Brightness, idx, sub.device)),
            (sub, idx) => ColorOps.Contrast(sub, Select(p.Contrast, idx, sub.device)),
            (sub, idx) => ColorOps.Saturation(sub, Select(p.Saturation, idx, sub.device)),
            (sub, idx) => ColorOps.Hue(sub, Select(p.Hue, idx, sub.device)),
        ];
        for (int round = 0; round < 4; round++)
            for (int op = 0; op < 4; op++)
            {
                var chosen = p.Jitter.Select((on, i) => on && p.JitterOrder[i][round] == op).ToArray();
                if (chosen.Any(c => c)) x = ApplyToSubset(x, chosen, ops[op]);
            }
        return x;
    }

    private static Tensor ApplyToSubset(Tensor x, bool[] chosen, Func<Tensor, int[], Tensor> op)
    {
        var idx = Enumerable.Range(0, chosen.Length).Where(i => chosen[i]).ToArray();
        var index = tensor(idx.Select(i => (long)i).ToArray(), device: x.device);
        return x.index_copy(0, index, op(x.index_select(0, index), idx));
    }

    private static Tensor Select(float[] values, int[] idx, Device device) =>
        tensor(idx.Select(i => values[i]).ToArray(), device: device);

    private static float Uniform(Random rng, double min, double max) => (float)(min + rng.NextDouble() * (max - min));

    private static int[] Permutation4(Random rng)
    {
        int[] order = [0, 1, 2, 3];
        for (int i = 3; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}

using Aavae.Augmentation;
using Aavae.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Tests.Augmentation;

public class SimClrViewTests
{
    /// <summary>RandomResizedCrop draws the kept area from [scale.min, 1] of the picture's; the sides are rounded, so a crop may lose a little.</summary>
    [Fact]
    public void TheCropScaleBoundsEveryCropsArea()
    {
        var mild = new SimClrView(32, 0.5, false, cropScale: 0.5).Sample(new Random(1), 500, 32, 32);
        Assert.All(mild.Boxes, b => Assert.True(b.Height * b.Width >= 0.9 * 0.5 * 32 * 32, $"{b}: {b.Height * b.Width} pixels"));
        var reference = new SimClrView(32, 0.5, false).Sample(new Random(1), 500, 32, 32);
        Assert.Contains(reference.Boxes, b => b.Height * b.Width < 0.2 * 32 * 32);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SimClrView(32, 0.5, false, cropScale: 0));
    }

    /// <summary>torchvision's ColorJitter(0.8 s, 0.8 s, 0.8 s, 0.2 s): factors drawn from [1 - 0.8 s, 1 + 0.8 s], hue from [-0.2 s, 0.2 s].</summary>
    [Fact]
    public void TheJitterStrengthSetsTheJittersRanges()
    {
        var none = new Views(DatasetInfo.FashionMnist, CPU, new AugmentationOptions { JitterStrength = 0 }).SimClr.Sample(new Random(2), 500, 32, 32);
        Assert.All(none.Brightness.Concat(none.Contrast).Concat(none.Saturation), f => Assert.Equal(1f, f));
        Assert.All(none.Hue, h => Assert.Equal(0f, h));
        var mild = new Views(DatasetInfo.FashionMnist, CPU, new AugmentationOptions { JitterStrength = 0.25 }).SimClr.Sample(new Random(2), 2000, 32, 32);
        Assert.All(mild.Brightness, b => Assert.InRange(b, 0.8f, 1.2f));
        Assert.Contains(mild.Brightness, b => b < 0.82f);
        Assert.All(mild.Hue, h => Assert.InRange(h, -0.05f, 0.05f));
        Assert.Equal(0.5, new Views(DatasetInfo.FashionMnist, CPU).SimClr.JitterStrength);
    }

    [Fact]
    public void IdenticalImagesGetDifferentViews()
    {
        manual_seed(0);
        var one = rand(1, 3, 32, 32);
        var batch = one.expand(16, 3, 32, 32).contiguous();
        var view = new SimClrView(32, 0.5, blur: false).Apply(batch, new Random(1));
        Assert.Equal(new long[] { 16, 3, 32, 32 }, view.shape);
        int distinct = 0;
        for (int i = 1; i < 16; i++)
            if (!view[i].allclose(view[0], atol: 1e-4)) distinct++;
        Assert.Equal(15, distinct);
    }

    [Fact]
    public void SeedReproducesBatchExactly()
    {
        manual_seed(0);
        var x = rand(8, 3, 96, 96);
        var simclr = new SimClrView(96, 1.0, blur: true);
        var a = simclr.Apply(x, new Random(42));
        var b = simclr.Apply(x, new Random(42));
        var c = simclr.Apply(x, new Random(43));
        Assert.True(a.eq(b).all().item<bool>());
        Assert.False(a.eq(c).all().item<bool>());
    }

    [Fact]
    public void ParametersFollowTheirProbabilitiesAndRanges()
    {
        var p = new SimClrView(96, 1.0, blur: true).Sample(new Random(3), 4000, 96, 96);
        Assert.InRange(p.Flips.Count(f => f) / 4000.0, 0.45, 0.55);
        Assert.InRange(p.Jitter.Count(f => f) / 4000.0, 0.76, 0.84);
        Assert.InRange(p.Grayscale.Count(f => f) / 4000.0, 0.17, 0.23);
        Assert.InRange(p.Blurred.Count(f => f) / 4000.0, 0.45, 0.55);
        Assert.All(p.Brightness, b => Assert.InRange(b, 0.2f, 1.8f));
        Assert.All(p.Hue, h => Assert.InRange(h, -0.2f, 0.2f));
        Assert.All(p.Sigmas, s => Assert.InRange(s, 0.1f, 2.0f));
        // Every one of the 24 jitter orders occurs.
        Assert.Equal(24, p.JitterOrder.Select(o => string.Join("", o)).Distinct().Count());
        var noBlur = new SimClrView(32, 0.5, blur: false).Sample(new Random(3), 100, 32, 32);
        Assert.DoesNotContain(true, noBlur.Blurred);
        Assert.All(noBlur.Brightness, b => Assert.InRange(b, 0.6f, 1.4f));
    }

    [Fact]
    public void PretrainingViewsForFashionMnistAreNormalisedRgb()
    {
        var views = new Views(DatasetInfo.FashionMnist, CPU);
        var images = full(4, 1, 32, 32, 255, dtype: ScalarType.Byte);
        var (x, original) = views.Pretraining(images, denoising: true, new Random(0));
        Assert.Equal(new long[] { 4, 3, 32, 32 }, x.shape);
        // White normalises to (1 - 0.2860) / 0.3530 on every channel.
        Assert.Equal((1 - 0.2860f) / 0.3530f, original[0, 2, 5, 5].item<float>(), 4);
        var (same, orig2) = views.Pretraining(images, denoising: false, new Random(0));
        Assert.True(same.eq(orig2).all().item<bool>());
    }

    [Fact]
    public void Stl10OriginalIsResizedTo105AndCentreCropped()
    {
        var views = new Views(DatasetInfo.Stl10, CPU);
        var images = zeros(1, 3, 96, 96, dtype: ScalarType.Byte);
        var unit = views.ToUnitRange(images);
        Assert.Equal(new long[] { 1, 3, 96, 96 }, views.Original(unit).shape);
        Assert.Equal(new long[] { 2, 3, 96, 96 }, views.LinearEvalTrain(zeros(2, 3, 96, 96, dtype: ScalarType.Byte), new Random(0)).shape);
    }
}

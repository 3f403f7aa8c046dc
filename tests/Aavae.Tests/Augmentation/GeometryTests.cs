using Aavae.Data;
using Aavae.Augmentation;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Tests.Augmentation;

public class GeometryTests
{
    static bool Same(Tensor a, Tensor b, double atol = 1e-5) => a.shape.SequenceEqual(b.shape) && a.allclose(b, rtol: 0, atol: atol);

    [Fact]
    public void CropBoxesRespectAreaAndAspectRanges()
    {
        var rng = new Random(0);
        int inRange = 0;
        for (int i = 0; i < 5000; i++)
        {
            var box = Geometry.SampleResizedCrop(rng, 96, 96, (0.08, 1.0), (3.0 / 4, 4.0 / 3));
            Assert.InRange(box.Top, 0, 96 - box.Height);
            Assert.InRange(box.Left, 0, 96 - box.Width);
            double area = box.Height * box.Width / (96.0 * 96);
            double aspect = (double)box.Width / box.Height;
            // Rounding the side lengths to pixels moves area and aspect slightly past the sampled range.
            if (area >= 0.08 * 0.9 && area <= 1.0 && aspect >= 0.75 * 0.9 && aspect <= 4.0 / 3 * 1.1) inRange++;
        }
        Assert.Equal(5000, inRange);
    }

    [Fact]
    public void FullBoxWithoutFlipIsIdentityAndWithFlipIsMirror()
    {
        manual_seed(0);
        var x = rand(2, 3, 8, 8);
        var full = new[] { new CropBox(0, 0, 8, 8), new CropBox(0, 0, 8, 8) };
        Assert.True(Same(x, Geometry.ResizedCrop(x, full, [false, false], 8)));
        var mirrored = Geometry.ResizedCrop(x, full, [true, false], 8);
        Assert.True(Same(x[0].flip(2), mirrored[0]));
        Assert.True(Same(x[1], mirrored[1]));
    }

    [Fact]
    public void CropPicksTheBoxPixels()
    {
        var x = arange(64, dtype: float32).view(1, 1, 8, 8).expand(1, 3, 8, 8).contiguous();
        var crop = Geometry.ResizedCrop(x, [new CropBox(2, 3, 4, 4)], [false], 4);
        Assert.True(Same(x[.., .., 2..6, 3..7], crop));
    }

    [Fact]
    public void HorizontalFlipMirrorsOnlyFlaggedImages()
    {
        var x = arange(2 * 3 * 2 * 3, dtype: float32).view(2, 3, 2, 3);
        var y = Geometry.HorizontalFlip(x, [true, false]);
        Assert.Equal(new float[] { 2, 1, 0 }, y[0, 0, 0].data<float>().ToArray());
        Assert.True(Same(x[1], y[1]));
    }

    [Fact]
    public void PaddedCropUsesReflectPadding()
    {
        var x = arange(16, dtype: float32).view(1, 1, 4, 4).expand(3, 3, 4, 4).contiguous();
        var y = Geometry.PaddedCrop(x, 2, [2, 0, 4], [2, 0, 4]);
        Assert.True(Same(x[0], y[0])); // offset = padding: the image itself
        // Offset 0: rows/cols -2,-1,0,1 reflect to 2,1,0,1.
        Assert.Equal(new float[] { 10, 9, 8, 9 }, y[1, 0, 0].data<float>().ToArray());
        // Offset 4: rows/cols 2,3,4,5 reflect to 2,3,2,1.
        Assert.Equal(new float[] { 10, 11, 10, 9 }, y[2, 0, 0].data<float>().ToArray());
    }
}

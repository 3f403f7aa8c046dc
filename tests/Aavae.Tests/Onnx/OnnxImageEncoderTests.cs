using Aavae.Augmentation;
using Aavae.Data;
using Aavae.Onnx;
using Aavae.Runtime;
using static TorchSharp.torch;
using Aavae.Embedding;
using Aavae.Inference;

namespace Aavae.Tests.Onnx;

/// <summary>
/// Aavae.Onnx against the libtorch path it replaces: its C# evaluation transform equals the one
/// libtorch computes (antialiased resize, crop, grey, padding, normalisation), and its features equal
/// ImageEncoder's on the same pictures.
/// </summary>
public class OnnxImageEncoderTests(TinyRun tiny) : IClassFixture<TinyRun>
{
    private static Pixels Picture(int width, int height, int channels, int seed)
    {
        var random = new Random(seed);
        var data = new byte[width * height * channels];
        random.NextBytes(data);
        return new Pixels(width, height, channels, data);
    }

    private static OnnxEncoderInfo InfoFor(DatasetInfo d) =>
        new("resnet18", 4, "cifar", d.InputHeight, 32, d.Name, d.Normalization.Mean, d.Normalization.Std, true, d.EvalShortSide, d.Grey);

    [Theory]
    [InlineData("fashion-mnist", 28, 28, 1)]   // its own pictures: zero-padded to 32
    [InlineData("fashion-mnist", 50, 37, 3)]   // a colour photo: grey, shrunk, cropped
    [InlineData("cifar10", 32, 32, 3)]         // as stored: normalised only
    [InlineData("cifar10", 20, 30, 3)]         // enlarged
    [InlineData("cifar10", 211, 97, 3)]        // shrunk more than twice: the filter widens
    [InlineData("stl10", 96, 96, 3)]           // Resize(105) + CenterCrop(96)
    [InlineData("stl10", 64, 200, 1)]          // grey picture in a colour data set
    [InlineData("imagenet", 300, 240, 3)]      // Resize(256/224 of 224) + CenterCrop(224)
    public void TheCSharpTransformEqualsLibtorchs(string dataset, int width, int height, int channels)
    {
        var data = DatasetInfo.Get(dataset);
        var picture = Picture(width, height, channels, seed: width * 7 + height);
        var transform = new EvalTransform(InfoFor(data));
        var ours = new float[3 * data.InputHeight * data.InputHeight];
        transform.Apply(picture, ours);

        using var scope = NewDisposeScope();
        var views = new Views(data, CPU);
        var expected = ImageEncoder.EvalView(data, views, [picture]).contiguous().data<float>().ToArray();
        Assert.Equal(expected.Length, ours.Length);
        double worst = expected.Zip(ours, (a, b) => (double)Math.Abs(a - b)).Max();
        Assert.True(worst <= 2e-6, $"{dataset} {width}x{height}x{channels}: max |diff| {worst:G3}");
    }

    /// <summary>The checkpoint's encoder as <c>aavae export --format onnx</c> writes it, into <paramref name="dir"/>.</summary>
    internal static string Export(string checkpoint, string dir)
    {
        var model = Path.Combine(dir, "encoder.onnx");
        var (code, _, stderr) = CliRunner.Run(dir, "export", "--checkpoint", checkpoint, "--format", "onnx", "--output", model);
        Assert.True(code == 0, stderr);
        return model;
    }

    [Fact]
    public void ItsFeaturesEqualTheLibtorchEncodersOnTheSamePictures()
    {
        var dir = TempDir.Create();
        var model = Export(tiny.Checkpoint, dir);
        var (files, _) = Inference.ImageEncoderTests.WritePngs(dir, 200, 9);
        var photo = Path.Combine(dir, "photo.png");
        Picture(45, 61, 3, seed: 4).SavePng(photo);
        string[] pictures = [.. files, photo];

        using IImageEmbedder onnx = OnnxImageEncoder.Load(model, threads: 1);
        using IImageEmbedder libtorch = ImageEncoder.Load(tiny.Checkpoint, device: "cpu");
        Assert.Equal((libtorch.ImageSize, libtorch.FeatureDim), (onnx.ImageSize, onnx.FeatureDim));
        var want = libtorch.Embed(pictures, batchSize: 4);
        var got = onnx.Embed(pictures, batchSize: 3);
        Assert.Equal(pictures.Length, got.Length);
        for (int i = 0; i < pictures.Length; i++)
        {
            double scale = want[i].Max(MathF.Abs);
            double worst = want[i].Zip(got[i], (a, b) => (double)Math.Abs(a - b)).Max();
            Assert.True(worst <= 1e-5 * scale, $"{Path.GetFileName(pictures[i])}: max |diff| {worst:G3} against features up to {scale:G3}");
        }
        Assert.Equal(got[4], onnx.Embed(pictures[4]));
    }

    [Fact]
    public void AModelWithoutTheExportersMetadataIsRefusedByName()
    {
        var dir = TempDir.Create();
        var model = Export(tiny.Checkpoint, dir);
        // The same bytes with one metadata key renamed: ONNX Runtime loads it, the encoder must not guess the transform.
        var bytes = File.ReadAllBytes(model);
        var key = System.Text.Encoding.ASCII.GetBytes("aavae.resize");
        int at = bytes.AsSpan().IndexOf(key);
        Assert.True(at > 0);
        bytes[at + key.Length - 1] = (byte)'x';
        var renamed = Path.Combine(dir, "renamed.onnx");
        File.WriteAllBytes(renamed, bytes);
        var e = Assert.Throws<InvalidDataException>(() => OnnxImageEncoder.Load(renamed));
        Assert.Contains("renamed.onnx", e.Message);
        Assert.Contains("aavae.resize", e.Message);

        var garbage = Path.Combine(dir, "garbage.onnx");
        File.WriteAllBytes(garbage, bytes[..100]);
        Assert.Contains("garbage.onnx", Assert.Throws<InvalidDataException>(() => OnnxImageEncoder.Load(garbage)).Message);
    }
}

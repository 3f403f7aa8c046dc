using Aavae.Augmentation;
using Aavae.Checkpoints;
using Aavae.Data;
using Aavae.Evaluation;
using static TorchSharp.torch;
using Aavae.Embedding;
using Aavae.Inference;

namespace Aavae.Tests.Inference;

/// <summary>The consumer's API: pictures from files embed as the data set's own evaluation path does; probes fit, predict, save and load.</summary>
public class ImageEncoderTests(TinyRun tiny) : IClassFixture<TinyRun>
{
    /// <summary>Fashion-MNIST test images written as RGB PNG files named by index, with their labels.</summary>
    internal static (string[] Files, int[] Labels) WritePngs(string dir, int start, int count)
    {
        using var test = FashionMnist.Load(FashionMnist.ShippedDirectory, train: false);
        return WritePngs(test, dir, Enumerable.Range(start, count).Select(i => (long)i).ToArray());
    }

    /// <summary>Images of <paramref name="source"/> written as RGB PNG files named by index, with their labels.</summary>
    internal static (string[] Files, int[] Labels) WritePngs(IImageSource source, string dir, long[] indices)
    {
        var (images, labels) = source.GetBatch(indices);
        var bytes = images.contiguous().data<byte>().ToArray();  // [N, 1, H, W] grey
        int h = (int)images.shape[2], w = (int)images.shape[3];
        var files = new string[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            var grey = bytes.AsSpan(i * h * w, h * w);
            var rgb = new byte[h * w * 3];
            for (int p = 0; p < h * w; p++) rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = grey[p];
            files[i] = Path.Combine(dir, $"{indices[i]:D5}.png");
            new Pixels(w, h, 3, rgb).SavePng(files[i]);
        }
        return (files, labels.data<long>().ToArray().Select(l => (int)l).ToArray());
    }

    [Fact]
    public void PictureFilesEmbedAsTheDataSetsEvaluationViewDoes()
    {
        var dir = TempDir.Create();
        var (files, _) = WritePngs(dir, 100, 12);
        using var encoder = ImageEncoder.Load(tiny.Checkpoint, device: "cpu");
        Assert.Equal("fashion-mnist", encoder.Dataset.Name);
        var ours = encoder.Embed(files, batchSize: 5);

        using var weights = PretrainedWeights.Read(tiny.Checkpoint);
        using var reference = CheckpointEncoder.Build(weights, CPU);
        using var test = FashionMnist.Load(FashionMnist.ShippedDirectory, train: false);
        var views = new Views(DatasetInfo.FashionMnist, CPU);
        var (images, _) = test.GetBatch(Enumerable.Range(100, 12).Select(i => (long)i).ToArray());
        float[] expected;
        using (inference_mode()) expected = reference.call(views.Eval(images)).contiguous().data<float>().ToArray();

        Assert.Equal(12, ours.Length);
        Assert.Equal(encoder.FeatureDim, ours[0].Length);
        var flat = ours.SelectMany(f => f).ToArray();
        // Grey -> RGB -> grey again (luma weights summing to 1 in float32): equal to rounding.
        for (int i = 0; i < flat.Length; i++) Assert.True(Math.Abs(flat[i] - expected[i]) <= 1e-4 * (1 + Math.Abs(expected[i])), $"feature {i}: {flat[i]} vs {expected[i]}");
        // One picture alone: the same features, up to the batch size's effect on the kernels' summation order.
        var single = encoder.Embed(files[3]);
        Assert.All(single.Zip(ours[3]), pair => Assert.Equal(pair.Second, pair.First, 1e-4f));
    }

    [Fact]
    public void FashionMnistsOwn28PixelPicturesArePaddedAsTheDataSetStoresThem()
    {
        using var test = FashionMnist.Load(FashionMnist.ShippedDirectory, train: false);
        var (images, _) = test.GetBatch([7L]);
        // The stored 32 x 32 picture's centre is the published 28 x 28 one.
        var inner = images[0, 0, 2..30, 2..30].contiguous().data<byte>().ToArray();
        using var encoder = ImageEncoder.Load(tiny.Checkpoint, device: "cpu");
        using var ours = encoder.Preprocess([new Pixels(28, 28, 1, inner)]);
        using var expected = new Views(DatasetInfo.FashionMnist, CPU).Eval(images);
        Assert.True(ours.allclose(expected, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void ABareStateDictOfA32PixelModelMustNameItsDataSet()
    {
        var path = Path.Combine(TempDir.Create(), "encoder.safetensors");
        using (var weights = PretrainedWeights.Read(tiny.Checkpoint)) StateDictExport.Write(weights, path, ExportFormat.Safetensors);
        var e = Assert.Throws<ArgumentException>(() => ImageEncoder.Load(path, device: "cpu"));
        Assert.Contains("fashion-mnist and cifar10", e.Message);
        using var cifar = ImageEncoder.Load(path, "cifar10", "cpu");
        Assert.Equal("cifar10", cifar.Dataset.Name);
        Assert.Equal(cifar.FeatureDim, cifar.Embed(new Pixels(32, 32, 3, new byte[32 * 32 * 3])).Length);
    }

    [Fact]
    public void ARunFolderLoadsAsItsLastCheckpoint()
    {
        using var fromFolder = ImageEncoder.Load(tiny.Run.Path, device: "cpu");
        using var fromFile = ImageEncoder.Load(tiny.Checkpoint, device: "cpu");
        var picture = new Pixels(28, 28, 3, Enumerable.Range(0, 28 * 28 * 3).Select(i => (byte)(i * 7)).ToArray());
        Assert.Equal(fromFile.Embed(picture), fromFolder.Embed(picture));
        var missing = Assert.Throws<FileNotFoundException>(() => ImageEncoder.Load(TempDir.Create(), device: "cpu"));
        Assert.Contains("no checkpoints/last.ckpt in that folder", missing.Message);
    }

    [Fact]
    public void LargerPicturesAreResizedAndCroppedToTheEncodersSize()
    {
        using var encoder = ImageEncoder.Load(tiny.Checkpoint, device: "cpu");
        // 64 x 48: the short side goes to 32, the long side to 43, and the centre 32 columns stay.
        var rng = new Random(3);
        var data = new byte[64 * 48 * 3];
        rng.NextBytes(data);
        using var x = encoder.Preprocess([new Pixels(64, 48, 3, data)]);
        Assert.Equal(new long[] { 1, 3, 32, 32 }, x.shape);
        Assert.Single(encoder.Embed([new Pixels(64, 48, 3, data)]));
        Assert.Throws<ArgumentException>(() => encoder.Embed(new Pixels(4, 4, 3, new byte[10])));
    }

    [Fact]
    public void Stl10PicturesGetItsResizeToOneHundredAndFiveAndCentreCrop()
    {
        var rng = new Random(5);
        var rgb = new byte[96 * 96 * 3];
        rng.NextBytes(rgb);
        var views = new Views(DatasetInfo.Stl10, CPU);
        using var ours = ImageEncoder.EvalView(DatasetInfo.Stl10, views, [new Pixels(96, 96, 3, rgb)]);
        // The data set's own path: uint8 [1, 3, 96, 96] through Views.Eval (Resize(105) + CenterCrop(96), normalised).
        using var chw = tensor(rgb, [96, 96, 3], ScalarType.Byte).permute(2, 0, 1).unsqueeze(0).contiguous();
        using var expected = views.Eval(chw);
        Assert.Equal(expected.shape, ours.shape);
        Assert.True(ours.allclose(expected, rtol: 0, atol: 1e-5), $"max |diff| {(ours - expected).abs().max().item<float>()}");
    }

    [Fact]
    public void ReconstructionsAreRgbPicturesOfTheEncodersSize()
    {
        var dir = TempDir.Create();
        var (files, _) = WritePngs(dir, 0, 1);
        using var encoder = ImageEncoder.Load(tiny.Checkpoint, device: "cpu");
        Assert.True(encoder.CanReconstruct);
        var picture = encoder.Reconstruct(files[0]);
        Assert.Equal((32, 32, 3, 32 * 32 * 3), (picture.Width, picture.Height, picture.Channels, picture.Data.Length));
        var png = Path.Combine(dir, "reconstruction.png");
        picture.SavePng(png);
        Assert.Equal(picture, Pixels.Read(png) with { Data = picture.Data } );
        Assert.Equal(picture.Data, Pixels.Read(png).Data);
    }

    [Fact]
    public void AProbeOnRawPixelsLearnsFashionMnistAndSurvivesSaveAndLoad()
    {
        using var train = FashionMnist.Load(FashionMnist.ShippedDirectory, train: true);
        using var test = FashionMnist.Load(FashionMnist.ShippedDirectory, train: false);
        (float[][] X, int[] Y) Pixels(IImageSource source, int n)
        {
            var (images, labels) = source.GetBatch(Enumerable.Range(0, n).Select(i => (long)i).ToArray());
            var flat = images.to_type(ScalarType.Float32).div(255).flatten(1).contiguous();
            int d = (int)flat.shape[1];
            var all = flat.data<float>().ToArray();
            return (Enumerable.Range(0, n).Select(i => all.AsSpan(i * d, d).ToArray()).ToArray(), labels.data<long>().ToArray().Select(l => (int)l).ToArray());
        }
        var (xTrain, yTrain) = Pixels(train, 2000);
        var (xTest, yTest) = Pixels(test, 1000);
        var probe = LinearProbe.Fit(xTrain, yTrain, options: new LinearProbeOptions { Epochs = 30, Seed = 1 });
        double accuracy = probe.Accuracy(xTest, yTest);
        // Logistic regression on all 60,000 pixel images reaches 84.2% (Xiao et al. 2017); on 2,000 it stays well above chance (10%).
        Assert.InRange(accuracy, 0.70, 0.90);
        var p = probe.Probabilities(xTest[0]);
        Assert.Equal(1.0, p.Sum(), 5);

        var path = Path.Combine(TempDir.Create(), "probe.json");
        probe.Save(path);
        var loaded = LinearProbe.Load(path);
        Assert.Equal(probe.Classes, loaded.Classes);
        Assert.Equal(xTest.Select(probe.Predict), xTest.Select(loaded.Predict));
        File.WriteAllText(path, "{\"format\": \"something else\"}");
        Assert.Throws<InvalidDataException>(() => LinearProbe.Load(path));
    }

    [Fact]
    public void Bf16MixedPicturesEmbedAsTheBf16EncoderOfLinearEvaluationDoes()
    {
        var dir = TempDir.Create();
        var (files, _) = WritePngs(dir, 300, 6);
        using var encoder = ImageEncoder.Load(tiny.Checkpoint, null, "cpu", "bf16-mixed");
        Assert.Equal(Aavae.Runtime.Precision.Bf16Mixed, encoder.Precision);
        var ours = encoder.Embed(files).SelectMany(f => f).ToArray();

        using var weights = PretrainedWeights.Read(tiny.Checkpoint);
        using var reference = CheckpointEncoder.Build(weights, CPU, precision: Aavae.Runtime.Precision.Bf16Mixed);
        using var test = FashionMnist.Load(FashionMnist.ShippedDirectory, train: false);
        var (images, _) = test.GetBatch(Enumerable.Range(300, 6).Select(i => (long)i).ToArray());
        float[] expected;
        using (inference_mode()) expected = reference.call(new Views(DatasetInfo.FashionMnist, CPU).Eval(images)).contiguous().data<float>().ToArray();
        for (int i = 0; i < ours.Length; i++) Assert.True(Math.Abs(ours[i] - expected[i]) <= 1e-4 * (1 + Math.Abs(expected[i])), $"feature {i}: {ours[i]} vs {expected[i]}");

        // The convolutions did run in bfloat16: not float32's features, but within bfloat16's rounding of them.
        using var full = ImageEncoder.Load(tiny.Checkpoint, device: "cpu");
        var float32 = full.Embed(files).SelectMany(f => f).ToArray();
        double range = float32.Max() - float32.Min(), worst = ours.Zip(float32).Max(p => Math.Abs(p.First - p.Second));
        Assert.InRange(worst / range, 1e-6, 5e-2);
    }

    [Fact]
    public void EmbedCommandWritesPicturesFeaturesAndTheirOrder()
    {
        var dir = TempDir.Create();
        var pictures = Path.Combine(dir, "pictures");
        Directory.CreateDirectory(pictures);
        var (files, _) = WritePngs(pictures, 200, 3);
        var output = Path.Combine(dir, "features.npy");
        var (code, _, err) = CliRunner.Run(dir, "embed", "--checkpoint", tiny.Checkpoint, "--device", "cpu", "--images", pictures, "--output", output);
        Assert.True(code == 0, err);
        var (values, shape) = Aavae.IO.Npy.ReadFloat32(output);
        using var encoder = ImageEncoder.Load(tiny.Checkpoint, device: "cpu");
        Assert.Equal(new long[] { 3, encoder.FeatureDim }, shape);
        Assert.Equal(encoder.Embed(files).SelectMany(f => f), values);

        // --precision reaches the pictures' encoder too.
        var bf16 = Path.Combine(dir, "bf16.npy");
        (code, _, err) = CliRunner.Run(dir, "embed", "--checkpoint", tiny.Checkpoint, "--device", "cpu", "--precision", "bf16-mixed", "--images", pictures, "--output", bf16);
        Assert.True(code == 0, err);
        using var mixed = ImageEncoder.Load(tiny.Checkpoint, null, "cpu", "bf16-mixed");
        Assert.Equal(mixed.Embed(files).SelectMany(f => f), Aavae.IO.Npy.ReadFloat32(bf16).Data);
        Assert.Equal(files, File.ReadAllLines(Path.Combine(dir, "features_files.txt")));
    }
}

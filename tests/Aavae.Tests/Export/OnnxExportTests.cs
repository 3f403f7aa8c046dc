using System.Diagnostics;
using Aavae.Data;
using Aavae.Models;
using Aavae.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;
using Aavae.Export;

namespace Aavae.Tests.Export;

/// <summary>
/// The exported encoder against two independent readers: ONNX Runtime's features must equal
/// libtorch's (float32, evaluation mode), and Debian's onnx checker must pass the file.
/// </summary>
public class OnnxExportTests(TinyRun tiny) : IClassFixture<TinyRun>
{
    [Fact]
    public void TheExportCommandsModelGivesEmbedsFeaturesOfTheSameArray()
    {
        var dir = TempDir.Create();
        var model = Path.Combine(dir, "encoder.onnx");
        var (code, stdout, stderr) = CliRunner.Run(dir, "export", "--checkpoint", tiny.Run.Path, "--format", "onnx", "--output", model);
        Assert.True(code == 0, stderr);
        Assert.Contains("ONNX opset 17", stdout);
        manual_seed(2);
        using var x = randn(4, 3, 32, 32);
        var input = x.data<float>().ToArray();
        var array = Path.Combine(dir, "batch.npy");
        Aavae.IO.Npy.Write(array, input, [4, 3, 32, 32]);
        var features = Path.Combine(dir, "features.npy");
        (code, _, stderr) = CliRunner.Run(dir, "embed", "--checkpoint", tiny.Checkpoint, "--input", array, "--device", "cpu", "--output", features);
        Assert.True(code == 0, stderr);
        var want = Aavae.IO.Npy.ReadFloat32(features).Data;
        var got = RunOnnx(model, input, [4, 3, 32, 32]);
        double scale = want.Max(MathF.Abs);
        Assert.True(want.Zip(got, (a, b) => Math.Abs(a - b)).Max() <= 1e-5 * scale);
        Assert.Equal(2, CliRunner.Run(dir, "export", "--checkpoint", tiny.Run.Path, "--format", "onnx", "--output", model).Code);

        // With the decoder: three outputs, the reconstruction a picture of the input's size.
        var full = Path.Combine(dir, "model.onnx");
        (code, stdout, stderr) = CliRunner.Run(dir, "export", "--checkpoint", tiny.Run.Path, "--format", "onnx", "--with-decoder", "--output", full);
        Assert.True(code == 0, stderr);
        Assert.Contains("reconstruction [batch, 3, 32, 32]", stdout);
        using (var session = new InferenceSession(full))
            Assert.Equal(["features", "latent_mean", "reconstruction"], session.OutputMetadata.Keys.Order());
        (code, _, stderr) = CliRunner.Run(dir, "export", "--checkpoint", tiny.Run.Path, "--with-decoder", "--output", Path.Combine(dir, "x.pt"));
        Assert.Equal(2, code);
        Assert.Contains("--with-decoder", stderr);
    }

    [Fact]
    public void TheDecoderOfAnEncoderOnlyCheckpointIsRefusedNamingTheFlag()
    {
        var dir = TempDir.Create();
        var path = Path.Combine(dir, "encoder.pt");
        using (var encoder = new ResNetEncoder(Architecture.Encoder("resnet18"), Stem.Cifar, width: 4))
            Aavae.Checkpoints.TorchFile.Write(path, Aavae.Checkpoints.StateDicts.WithPrefix(encoder, "encoder."));
        var output = Path.Combine(dir, "model.onnx");
        var (code, _, stderr) = CliRunner.Run(dir, "export", "--checkpoint", path, "--format", "onnx", "--with-decoder", "--output", output);
        Assert.Equal(2, code);
        Assert.Equal($"aavae: error: --with-decoder {path} holds encoder weights only: no projection and decoder to export", stderr.Trim());
        Assert.False(File.Exists(output));
    }

    /// <summary>A small-width encoder with BatchNorm statistics and affine parameters far from their initial values, so folding them is tested.</summary>
    private static ResNetEncoder Encoder(string name, Stem stem, int seed)
    {
        manual_seed(seed);
        var encoder = new ResNetEncoder(Architecture.Encoder(name), stem, width: 4);
        SpreadBatchNorms(encoder);
        return encoder;
    }

    /// <summary>Every BatchNorm spread (so folding them is tested), then evaluation mode.</summary>
    private static void SpreadBatchNorms(TorchSharp.torch.nn.Module module)
    {
        BatchNorms.Spread(module);
        module.eval();
    }

    private static float[] RunOnnx(string path, float[] input, long[] shape) => RunOnnxOutputs(path, input, shape)["features"];

    [Theory]
    [InlineData("resnet18", Stem.Cifar, 32)]
    [InlineData("resnet34", Stem.Stl10, 32)]
    [InlineData("resnet50", Stem.ImageNet, 64)]
    [InlineData("resnet50w2", Stem.Cifar, 32)]
    [InlineData("resnet50w4", Stem.Cifar, 32)]
    [InlineData("resnet18", Stem.ImageNet, 64)]
    public void OnnxRuntimesFeaturesEqualLibtorchsFoldedOrNot(string name, Stem stem, int size)
    {
        using var encoder = Encoder(name, stem, seed: name.Length + (int)stem);
        manual_seed(1);
        using var x = randn(3, 3, size, size);
        using var expected = encoder.call(x);
        var want = expected.data<float>().ToArray();
        var input = x.data<float>().ToArray();
        var dir = TempDir.Create();
        foreach (bool fold in new[] { true, false })
        {
            var path = Path.Combine(dir, $"{name}-{fold}.onnx");
            OnnxExport.Write(encoder, size, DatasetInfo.Cifar10, path, "test", fold);
            var got = RunOnnx(path, input, [3, 3, size, size]);
            Assert.Equal(want.Length, got.Length);
            double scale = want.Max(MathF.Abs);
            double worst = want.Zip(got, (a, b) => (double)Math.Abs(a - b)).Max();
            Assert.True(worst <= 1e-5 * scale, $"{name}, {stem} stem, fold {fold}: max |diff| {worst:G3} against features up to {scale:G3}");
            // The batch dimension is dynamic: one image alone gives its row of the batch's features.
            var one = RunOnnx(path, input[..(3 * size * size)], [1, 3, size, size]);
            Assert.True(one.Zip(got, (a, b) => Math.Abs(a - b)).Max() <= 1e-5 * scale);
        }
    }

    private static Dictionary<string, float[]> RunOnnxOutputs(string path, float[] input, long[] shape)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(path, options);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(input, shape.Select(d => (int)d).ToArray()))]);
        return results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
    }

    /// <summary>Every model kind, decoder block and stem: ONNX Runtime's features, latent mean and reconstruction against libtorch's in evaluation mode.</summary>
    [Theory]
    [InlineData(ModelKind.Aavae, "resnet18", "decoder18", Stem.Cifar, 32)]
    [InlineData(ModelKind.Vae, "resnet50", "decoder50", Stem.Cifar, 32)]
    [InlineData(ModelKind.Ae, "resnet18", "decoder50", Stem.Stl10, 96)]
    [InlineData(ModelKind.Aavae, "resnet18", "decoder18", Stem.ImageNet, 64)]
    public void WithTheDecoderItsLatentMeanAndReconstructionEqualLibtorchs(ModelKind kind, string encoder, string decoder, Stem stem, int size)
    {
        manual_seed(11);
        using var model = new AavaeModel(new ModelOptions { Kind = kind, Encoder = encoder, Decoder = decoder, Stem = stem, InputHeight = size, Width = 4, LatentDim = 8 });
        SpreadBatchNorms(model);
        manual_seed(1);
        using var x = randn(2, 3, size, size);
        float[] features, mean, reconstruction;
        using (no_grad())
        {
            using var h = model.Encoder.call(x);
            var latent = model.Encode(x);
            using var r = model.Decoder.call(latent.Mean);
            (features, mean, reconstruction) = (h.data<float>().ToArray(), latent.Mean.data<float>().ToArray(), r.data<float>().ToArray());
        }
        var dir = TempDir.Create();
        foreach (bool fold in new[] { true, false })
        {
            var path = Path.Combine(dir, $"{kind}-{fold}.onnx");
            OnnxExport.Write(model, DatasetInfo.Cifar10, path, "test", fold);
            var got = RunOnnxOutputs(path, x.data<float>().ToArray(), [2, 3, size, size]);
            foreach (var (name, want) in new[] { ("features", features), ("latent_mean", mean), ("reconstruction", reconstruction) })
            {
                Assert.Equal(want.Length, got[name].Length);
                double scale = want.Max(MathF.Abs);
                double worst = want.Zip(got[name], (a, b) => (double)Math.Abs(a - b)).Max();
                Assert.True(worst <= 1e-5 * scale, $"{kind} {decoder} {stem}, fold {fold}, {name}: max |diff| {worst:G3} against values up to {scale:G3}");
            }
        }
    }

    [Fact]
    public void TheMetadataCarriesTheInputSizeAndTheNormalisation()
    {
        using var encoder = Encoder("resnet18", Stem.Cifar, seed: 3);
        var path = Path.Combine(TempDir.Create(), "m.onnx");
        OnnxExport.Write(encoder, 32, DatasetInfo.FashionMnist, path, "test");
        using var session = new InferenceSession(path);
        var meta = session.ModelMetadata.CustomMetadataMap;
        Assert.Equal("32", meta["aavae.input_size"]);
        Assert.Equal("fashion-mnist", meta["aavae.dataset"]);
        Assert.Equal(DatasetInfo.FashionMnist.Normalization.Mean, meta["aavae.mean"].Split(',').Select(float.Parse));
        Assert.Equal(DatasetInfo.FashionMnist.Normalization.Std, meta["aavae.std"].Split(',').Select(float.Parse));
        Assert.Equal("32", meta["aavae.feature_dim"]);
        var input = session.InputMetadata["input"];
        Assert.Equal([-1, 3, 32, 32], input.Dimensions);
    }

    [RequiresFact(Need.Onnx)]
    public void DebiansOnnxCheckerPassesTheModelInFull()
    {
        var dir = TempDir.Create();
        var paths = new List<string>();
        foreach (var (name, stem) in new[] { ("resnet18", Stem.Cifar), ("resnet50", Stem.ImageNet) })
            foreach (bool fold in new[] { true, false })
            {
                using var encoder = Encoder(name, stem, seed: 5);
                var path = Path.Combine(dir, $"{name}-{fold}.onnx");
                OnnxExport.Write(encoder, stem == Stem.ImageNet ? 64 : 32, DatasetInfo.Cifar10, path, "test", fold);
                paths.Add(path);
            }
        using (var model = new AavaeModel(new ModelOptions { Encoder = "resnet18", Decoder = "decoder50", Stem = Stem.Stl10, InputHeight = 96, Width = 4, LatentDim = 8 }))
        {
            var path = Path.Combine(dir, "with-decoder.onnx");
            OnnxExport.Write(model, DatasetInfo.Stl10, path, "test");
            paths.Add(path);
        }
        var script = "import sys, onnx\nfor p in sys.argv[1:]:\n    m = onnx.load(p)\n    onnx.checker.check_model(m, full_check=True)\n    print(p, m.opset_import[0].version, m.ir_version)";
        var info = new ProcessStartInfo(ReferenceFixtures.Python, ["-c", script, .. paths]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, stderr);
        Assert.Equal(paths.Select(x => $"{x} 17 8"), stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}

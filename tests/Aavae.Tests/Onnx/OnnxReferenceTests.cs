using Aavae.Checkpoints;
using Aavae.Data;
using Aavae.Onnx;
using Aavae.Tests.Interop;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = TorchSharp.torch.Tensor;
using Aavae.Export;

namespace Aavae.Tests.Onnx;

/// <summary>
/// The paper-style Lightning checkpoint PyTorch wrote (the reference's networks, Lightning 1.3's
/// layout, an online fine-tuner beside them) exported to ONNX: ONNX Runtime's features, latent mean
/// and reconstruction of PyTorch's own batch equal what PyTorch computed, with no libtorch between.
/// </summary>
public class OnnxReferenceTests(ReferenceFixtures fixtures) : IClassFixture<ReferenceFixtures>
{
    [RequiresTheory(Need.PyTorch)]
    [InlineData("resnet18")]
    [InlineData("resnet50")]
    public void ThePapersLightningCheckpointRunsInOnnxRuntimeAsInPyTorch(string encoder)
    {
        var path = Path.Combine(TempDir.Create(), $"{encoder}.onnx");
        using (var weights = PretrainedWeights.Read(fixtures.Checkpoint(encoder)))
            OnnxExport.Write(weights, DatasetInfo.Cifar10, path, withDecoder: true);

        var expected = TorchFile.Read(fixtures.Expected(encoder));
        var x = (Tensor)expected["x"]!;
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(path, options);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x.data<float>().ToArray(), x.shape.Select(d => (int)d).ToArray()))]);
        foreach (var (output, key) in new[] { ("features", "features"), ("latent_mean", "mu"), ("reconstruction", "reconstruction") })
        {
            var want = ((Tensor)expected[key]!).data<float>().ToArray();
            var got = results.Single(r => r.Name == output).AsTensor<float>().ToArray();
            Assert.Equal(want.Length, got.Length);
            double scale = want.Max(MathF.Abs);
            double worst = want.Zip(got, (a, b) => (double)Math.Abs(a - b)).Max();
            Assert.True(worst <= 1e-4 * scale, $"{encoder} {output}: max |diff| {worst:G3} against PyTorch's values up to {scale:G3}");
        }
    }
}

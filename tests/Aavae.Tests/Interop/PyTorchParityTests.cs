using System.Diagnostics;
using Aavae.Checkpoints;
using static TorchSharp.torch;

namespace Aavae.Tests.Interop;

/// <summary>The reference's networks in PyTorch and this project's, given the same weights, compute the same things; files go both ways.</summary>
public class PyTorchParityTests(ReferenceFixtures fixtures) : IClassFixture<ReferenceFixtures>
{
    private static double RelativeError(Tensor actual, Tensor expected) =>
        ((actual - expected).abs().max() / expected.abs().max().clamp_min(1e-12)).item<float>();

    [RequiresTheory(Need.PyTorch)]
    [InlineData("resnet18")]
    [InlineData("resnet50")]
    public void LightningCheckpointLoadsAndMatchesPyTorchInEvalMode(string encoder)
    {
        using var scope = NewDisposeScope();
        using var weights = PretrainedWeights.Read(fixtures.Checkpoint(encoder));
        Assert.Equal(CheckpointFormat.Lightning, weights.Format);
        Assert.Equal((encoder, 64, 128, Aavae.Models.Stem.Cifar), (weights.Options.Encoder, weights.Options.Width, weights.Options.LatentDim, weights.Options.Stem));

        using var model = weights.BuildModel(out var report);
        // Every model key matched; the online probe's weights are in the file but not part of the model.
        Assert.True(report.Complete, report.ToString());
        Assert.True(weights.StateDict.ContainsKey("online_finetuner.weight"));
        model.eval();

        var expected = TorchFile.Read(fixtures.Expected(encoder));
        var x = (Tensor)expected["x"]!;
        using var _ = no_grad();
        var features = model.Encoder.call(x);
        var latent = model.Encode(x);
        var (mu, logvar) = (latent.Mean, latent.LogVar!);
        var reconstruction = model.Decoder.call(mu);
        Assert.True(RelativeError(features, (Tensor)expected["features"]!) < 1e-4, $"features: {RelativeError(features, (Tensor)expected["features"]!)}");
        Assert.True(RelativeError(mu, (Tensor)expected["mu"]!) < 1e-4, $"mu: {RelativeError(mu, (Tensor)expected["mu"]!)}");
        Assert.True(RelativeError(logvar, (Tensor)expected["logvar"]!) < 1e-4, $"logvar: {RelativeError(logvar, (Tensor)expected["logvar"]!)}");
        Assert.True(RelativeError(reconstruction, (Tensor)expected["reconstruction"]!) < 1e-4, $"reconstruction: {RelativeError(reconstruction, (Tensor)expected["reconstruction"]!)}");
    }

    [RequiresFact(Need.PyTorch)]
    public void EncoderAloneLoadsFromTheLightningCheckpoint()
    {
        using var weights = PretrainedWeights.Read(fixtures.Checkpoint("resnet18"));
        using var encoder = weights.BuildEncoder(out var report);
        Assert.True(report.Complete, report.ToString());
        Assert.Equal(512, encoder.FeatureDim);
    }

    [RequiresTheory(Need.PyTorch)]
    [InlineData("pt")]
    [InlineData("safetensors")]
    public void ExportedFileLoadsInPyTorchWithIdenticalTensors(string format)
    {
        var reference = fixtures.Checkpoint("resnet18");
        var output = Path.Combine(TempDir.Create(), "model." + format);
        var (code, stdout, stderr) = CliRunner.Run(TempDir.Create(), "export", "--checkpoint", reference, "--format", format, "--output", output);
        Assert.True(code == 0, stderr);
        Assert.Contains("ok:", ReferenceFixtures.RunPython(format == "pt" ? "check-pt" : "check-safetensors", output, reference, "resnet18"));

        // And back: the exported file is itself a checkpoint this project reads, with the same tensors.
        using var original = PretrainedWeights.Read(reference);
        using var exported = PretrainedWeights.Read(output);
        Assert.Equal(original.Options with { Kind = exported.Options.Kind }, exported.Options);
        foreach (var (name, t) in exported.StateDict)
            Assert.True(t.eq(original.StateDict[name]).all().item<bool>(), name);
        _ = stdout;
    }

    [RequiresFact(Need.PyTorch)]
    public void AChannelsLastRunsCheckpointLoadsInPyTorchContiguousWithTheSameValues()
    {
        // A training step in channels-last leaves channels-last weights and Adam moments; the file
        // must hold them as PyTorch writes its own: contiguous, each value at its index.
        using var module = new Aavae.Training.PretrainModule(Training.PretrainerTests.Tiny(), CPU, batchesPerEpoch: 1);
        Assert.Equal(Aavae.Runtime.MemoryFormat.ChannelsLast, module.Options.Trainer.MemoryFormat);
        var conv = module.Model.named_parameters().First(p => p.name == "encoder.conv1.weight").parameter;
        Assert.True(Aavae.Runtime.ChannelsLast.Is(conv));
        using (var x = randn(4, 3, 32, 32))
            module.Model.forward(x, x).Loss.backward();
        module.Optimizer.Step();
        var path = Path.Combine(TempDir.Create(), "last.ckpt");
        Aavae.Checkpoints.TrainingCheckpoint.Save(path, module.Options, new Aavae.Checkpoints.TrainingPosition(1, 0, 1), module.Model, module.Optimizer, null);

        var printed = ReferenceFixtures.RunPython("checksums", path).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')).ToDictionary(f => f[0], f => double.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture));
        var state = module.Model.state_dict();
        Assert.Equal(state.Keys.Order(), printed.Keys.Order());
        foreach (var (name, t) in state)
        {
            using var weights = arange(t.numel(), dtype: ScalarType.Float64).reshape(t.shape);
            double expected = t.to(ScalarType.Float64).mul(weights).sum().item<double>();
            Assert.True(Math.Abs(printed[name] - expected) <= 1e-9 * Math.Max(1, Math.Abs(expected)), $"{name}: {printed[name]} in PyTorch, {expected} here");
        }
    }
}

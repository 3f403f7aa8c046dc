using System.IO.Compression;
using Aavae.Checkpoints;
using Aavae.Data;
using Aavae.Models;
using static TorchSharp.torch;

namespace Aavae.Tests.Checkpoints;

/// <summary>Reading checkpoints: what the project writes comes back, and bad files fail with one clear message.</summary>
public class PretrainedWeightsTests(TinyRun tiny) : IClassFixture<TinyRun>
{
    [Fact]
    public void OwnCheckpointComesBackWithItsArchitectureAndEveryEncoderKey()
    {
        using var weights = PretrainedWeights.Read(tiny.Checkpoint);
        Assert.Equal(CheckpointFormat.Aavae, weights.Format);
        Assert.Equal(("resnet18", 4, 8), (weights.Options.Encoder, weights.Options.Width, weights.Options.LatentDim));
        Assert.Equal("fashion-mnist", weights.TrainedOn);
        using var encoder = weights.BuildEncoder(out var report);
        Assert.True(report.Complete, report.ToString());
    }

    [Fact]
    public void ArchitectureIsInferredFromShapesAlone()
    {
        // The same weights without the configuration: names and shapes must be enough.
        using var weights = PretrainedWeights.Read(tiny.Checkpoint);
        var inferred = ArchitectureInference.Infer(weights.StateDict, null, "test");
        Assert.Equal(weights.Options with { LogScale = inferred.LogScale, Decoder = inferred.Decoder }, inferred);
        Assert.Equal("decoder18", inferred.Decoder);
    }

    [Theory]
    [InlineData("resnet18", "decoder50")]  // the reference's pairing: decoder50 whatever the encoder
    [InlineData("resnet50w2", "decoder50")]
    [InlineData("resnet18", "decoder18")]  // the matching pairing of the small presets
    [InlineData("resnet50", "decoder50w2")]
    public void EitherDecoderPairingIsInferredFromItsShapes(string encoder, string decoder)
    {
        var options = new ModelOptions { Encoder = encoder, Decoder = decoder, Width = 4, LatentDim = 8 };
        using var model = new AavaeModel(options);
        var stateDict = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
        var inferred = ArchitectureInference.Infer(stateDict, null, "test");
        Assert.Equal((encoder, decoder, 4, 8), (inferred.Encoder, inferred.DecoderName, inferred.Width, inferred.LatentDim));
        using var rebuilt = new AavaeModel(inferred);
        Assert.Equal(stateDict.Keys.Order(), rebuilt.state_dict().Keys.Order());
    }

    [Theory]
    [InlineData("decoder18")]
    [InlineData("decoder50")]
    public void ANarrowerDecoderIsBuiltAndInferredFromItsShapes(string decoder)
    {
        var options = new ModelOptions { Encoder = "resnet18", Decoder = decoder, Width = 8, DecoderWidth = 4, LatentDim = 8 };
        using var model = new AavaeModel(options);
        var stateDict = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
        // The encoder keeps its 8 stem channels; the decoder's last block ends in 4.
        Assert.Equal(8L, stateDict["encoder.conv1.weight"].shape[0]);
        Assert.Equal(4L, stateDict["decoder.conv2.weight"].shape[0]);
        var inferred = ArchitectureInference.Infer(stateDict, null, "test");
        Assert.Equal((8, 4, decoder), (inferred.Width, inferred.DecoderWidth, inferred.DecoderName));
        using var rebuilt = new AavaeModel(inferred);
        Assert.Equal(stateDict.ToDictionary(kv => kv.Key, kv => string.Join(",", kv.Value.shape)),
            rebuilt.state_dict().ToDictionary(kv => kv.Key, kv => string.Join(",", kv.Value.shape)));
    }

    [Fact]
    public void NotAZipIsRefused()
    {
        var path = Path.Combine(TempDir.Create(), "model.ckpt");
        File.WriteAllText(path, "this is not a checkpoint");
        var e = Assert.Throws<InvalidDataException>(() => PretrainedWeights.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not a checkpoint", e.Message);
    }

    [Fact]
    public void TruncatedFileIsRefused()
    {
        var path = Path.Combine(TempDir.Create(), "cut.ckpt");
        var bytes = File.ReadAllBytes(tiny.Checkpoint);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => PretrainedWeights.Read(path));
        Assert.Contains("truncated or damaged", e.Message);
    }

    [Fact]
    public void ZipWithoutAPickleIsRefused()
    {
        var path = Path.Combine(TempDir.Create(), "other.zip");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
            using (var w = new StreamWriter(zip.CreateEntry("readme.txt").Open())) w.Write("hello");
        var e = Assert.Throws<InvalidDataException>(() => PretrainedWeights.Read(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void ShapesOfNoKnownArchitectureAreRefused()
    {
        var path = Path.Combine(TempDir.Create(), "odd.ckpt");
        TorchFile.Write(path, new Dictionary<string, object>
        {
            ["state_dict"] = new Dictionary<string, object>
            {
                ["encoder.conv1.weight"] = zeros(16, 3, 3, 3),
                ["encoder.layer1.0.conv1.weight"] = zeros(16, 16, 3, 3),
                ["encoder.layer2.0.conv1.weight"] = zeros(32, 16, 3, 3),
                ["encoder.layer3.0.conv1.weight"] = zeros(64, 32, 3, 3),
                ["encoder.layer4.0.conv1.weight"] = zeros(128, 64, 3, 3),
            },
        });
        var e = Assert.Throws<InvalidDataException>(() => PretrainedWeights.Read(path));
        Assert.Contains("fit no known architecture", e.Message);
        Assert.Contains("[1, 1, 1, 1]", e.Message);
    }

    [Fact]
    public void DataSetOfAnotherImageSizeIsRefused()
    {
        var e = Assert.Throws<InvalidDataException>(() => PretrainedWeights.Read(tiny.Checkpoint, DatasetInfo.Stl10));
        Assert.Contains("32x32", e.Message);
        Assert.Contains("96x96", e.Message);
    }

    [Fact]
    public void MissingEncoderKeysAreNamed()
    {
        using var weights = PretrainedWeights.Read(tiny.Checkpoint);
        var partial = weights.StateDict.Where(kv => kv.Key != "encoder.layer4.1.bn2.running_var").ToDictionary();
        // The same tensors, which `weights` owns and frees.
        var cut = new PretrainedWeights(weights.Path, weights.Format, weights.Options, partial);
        var e = Assert.Throws<InvalidDataException>(() => cut.BuildEncoder(out _));
        Assert.Contains("encoder.layer4.1.bn2.running_var", e.Message);
    }
}

using Aavae.Training;

namespace Aavae.Tests.Training;

public class PretrainOptionsTests
{
    [Theory]
    [InlineData("--learning-rate")]
    [InlineData("--kl-coeff")]
    [InlineData("--batch-size")]
    [InlineData("--val-samples")]
    public void OutOfRangeValuesNameTheirFlag(string flag)
    {
        var bad = flag switch
        {
            "--learning-rate" => new PretrainOptions { LearningRate = -1e-3 },
            "--kl-coeff" => new PretrainOptions { KlCoeff = -0.1 },
            "--batch-size" => new PretrainOptions { BatchSize = 0 },
            _ => new PretrainOptions { ValSamples = 0 },
        };
        var e = Assert.Throws<ArgumentException>(bad.Validate);
        Assert.StartsWith(flag, e.Message);
    }

    [Fact]
    public void JsonRoundTripsAndUsesTheReferenceSpelling()
    {
        var o = PretrainerTests.Tiny() with { DataDir = "/data", MaxSteps = 12 };
        var json = o.ToJson();
        Assert.Contains("\"kl_coeff\"", json);
        Assert.Contains("\"max_epochs\"", json);
        Assert.Equal(o, PretrainOptions.FromJson(json));
    }

    [Fact]
    public void PaperPresetIsTheReferenceDefaults()
    {
        var p = Presets.Get("paper");
        Assert.Equal(("resnet50", 64, 3200, 20, 1e-3, 128), (p.Model.Encoder, p.Model.Width, p.MaxEpochs, p.WarmupEpochs, p.LearningRate, p.BatchSize));
    }
}

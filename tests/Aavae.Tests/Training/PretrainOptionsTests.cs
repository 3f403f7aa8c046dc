using Aavae.Models;
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
    public void PaperPresetIsThePapersCifar10Run()
    {
        // The reference's README: vae.py --gpus 1 --max_epochs 3200 --batch_size 256 --warmup_epochs 10
        // --val_samples 16 --weight_decay 0 --logscale 0 --kl_coeff 0 --learning_rate 2.5e-4 --denoising
        var p = Presets.WithKind(Presets.Get("paper"), Presets.Get("paper").Model.Kind);
        Assert.Equal(("resnet50", "decoder50", 64, 3200, 256, 10, 16),
            (p.Model.Encoder, p.Model.DecoderName, p.Model.Width, p.MaxEpochs, p.BatchSize, p.WarmupEpochs, p.ValSamples));
        Assert.Equal((2.5e-4, 0.0, 0.0, 0.0, true, ModelKind.Aavae),
            (p.LearningRate, p.WeightDecay, p.Model.LogScale, p.KlCoeff, p.Denoising, p.Model.Kind));
    }

    [Fact]
    public void ReferencePresetIsTheReferencesArgparseDefaults()
    {
        // vae.py without flags: no --denoising, kl_coeff 0.1, batch 128, lr 1e-3, warm-up 20, val_samples 1, decoder50.
        var r = Presets.WithKind(Presets.Get("reference"), Presets.Get("reference").Model.Kind);
        Assert.Equal(("resnet50", "decoder50", 3200, 128, 20, 1, 1e-3, 0.1, false),
            (r.Model.Encoder, r.Model.DecoderName, r.MaxEpochs, r.BatchSize, r.WarmupEpochs, r.ValSamples, r.LearningRate, r.KlCoeff, r.Denoising));
    }
}

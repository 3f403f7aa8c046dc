using Aavae.Checkpoints;
using Aavae.Objectives;
using Aavae.Optimization;
using Aavae.Data;
using Aavae.Augmentation;
using Aavae.Evaluation;
using Aavae.Runtime;
using Aavae.Configuration;
using Aavae.Models;
using Aavae.Training;
using Aavae.Runs;
using Aavae.Options;

using Aavae.Tests.Training;

namespace Aavae.Tests.Options;

public class PretrainOptionsTests
{
    [Theory]
    [InlineData(nameof(OptimizerOptions.LearningRate))]
    [InlineData(nameof(ObjectiveOptions.KlCoeff))]
    [InlineData(nameof(DataOptions.BatchSize))]
    [InlineData(nameof(ObjectiveOptions.ValSamples))]
    [InlineData(nameof(AugmentationOptions.JitterStrength))]
    public void OutOfRangeValuesNameTheirOption(string option)
    {
        var bad = option switch
        {
            // Hue 0.2 s past 0.5 would wrap the colour wheel: torchvision refuses it too.
            nameof(AugmentationOptions.JitterStrength) => new PretrainOptions { Augmentation = new() { JitterStrength = 3 } },
            nameof(OptimizerOptions.LearningRate) => new PretrainOptions { Optimizer = new() { LearningRate = -1e-3 } },
            nameof(ObjectiveOptions.KlCoeff) => new PretrainOptions { Objective = new() { KlCoeff = -0.1 } },
            nameof(DataOptions.BatchSize) => new PretrainOptions { Data = new() { BatchSize = 0 } },
            _ => new PretrainOptions { Objective = new() { ValSamples = 0 } },
        };
        var e = Assert.Throws<OptionException>(bad.Validate);
        Assert.Equal(option, e.Option);
    }

    [Fact]
    public void JitterStrengthIsTheDataSetsUnlessSet()
    {
        // vae.py: 0.5 for CIFAR-10 (Fashion-MNIST follows it), 1.0 for STL-10; the hyper-parameters name the one used.
        Assert.Equal(0.5, HyperParameters.Write(new PretrainOptions())["jitter_strength"]);
        Assert.Equal(1.0, HyperParameters.Write(new PretrainOptions { Data = new() { Dataset = Aavae.Data.DatasetInfo.Stl10 } })["jitter_strength"]);
        Assert.Equal(0.25, HyperParameters.Write(new PretrainOptions { Augmentation = new() { JitterStrength = 0.25 } })["jitter_strength"]);
        Assert.Equal(0.25, PretrainOptions.FromJson(new PretrainOptions { Augmentation = new() { JitterStrength = 0.25 } }.ToJson()).Augmentation.JitterStrength);
    }

    [Fact]
    public void WholeWarmupEpochsStayIntegersForTheReference()
    {
        // vae.py's --warmup_epochs is an int; a fraction is this project's and keeps its value.
        Assert.Equal(10, HyperParameters.Write(new PretrainOptions())["warmup_epochs"]);
        Assert.Equal(0.5, HyperParameters.Write(new PretrainOptions { Optimizer = new() { WarmupEpochs = 0.5 } })["warmup_epochs"]);
        Assert.Equal(nameof(OptimizerOptions.WarmupEpochs), Assert.Throws<OptionException>(new PretrainOptions { Optimizer = new() { WarmupEpochs = double.NaN } }.Validate).Option);
        Assert.Equal(nameof(OptimizerOptions.WarmupEpochs), Assert.Throws<OptionException>(new PretrainOptions { Optimizer = new() { WarmupEpochs = 1e12 } }.Validate).Option);
    }

    [Fact]
    public void DefaultsAreThePapersAavaeRun()
    {
        // Not a VAE in AAVAE's clothes: the kind, denoising and kl_coeff agree, and they are the paper preset.
        var o = new PretrainOptions();
        Assert.Equal((ModelKind.Aavae, true, 0.0), (o.Model.Kind, o.Augmentation.Denoising, o.Objective.KlCoeff));
        Assert.Equal(Presets.For("paper"), o);
    }

    [Fact]
    public void JsonRoundTripsAndUsesTheReferenceSpelling()
    {
        var tiny = PretrainerTests.Tiny();
        var o = tiny with { Data = tiny.Data with { DataDir = "/data" }, Trainer = tiny.Trainer with { MaxSteps = 12, MaxTime = TimeSpan.FromMinutes(90) } };
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
            (p.Model.Encoder, p.Model.DecoderName, p.Model.Width, p.Trainer.MaxEpochs, p.Data.BatchSize, p.Optimizer.WarmupEpochs, p.Objective.ValSamples));
        Assert.Equal((2.5e-4, 0.0, 0.0, 0.0, true, ModelKind.Aavae),
            (p.Optimizer.LearningRate, p.Optimizer.WeightDecay, p.Model.LogScale, p.Objective.KlCoeff, p.Augmentation.Denoising, p.Model.Kind));
    }

    [Fact]
    public void ReferencePresetIsTheReferencesArgparseDefaults()
    {
        // vae.py without flags: no --denoising, kl_coeff 0.1, batch 128, lr 1e-3, warm-up 20, val_samples 1, decoder50.
        var r = Presets.WithKind(Presets.Get("reference"), Presets.Get("reference").Model.Kind);
        Assert.Equal(("resnet50", "decoder50", 3200, 128, 20, 1, 1e-3, 0.1, false),
            (r.Model.Encoder, r.Model.DecoderName, r.Trainer.MaxEpochs, r.Data.BatchSize, r.Optimizer.WarmupEpochs, r.Objective.ValSamples, r.Optimizer.LearningRate, r.Objective.KlCoeff, r.Augmentation.Denoising));
    }

    [Theory]
    [InlineData("reference")]
    [InlineData("paper")]
    public void TheReferencesAeHasItsOwnDefaults(string preset)
    {
        // src/ae.py's argparse: --weight_decay 1e-6, --warmup_epochs 10 (vae.py: 0 and 20); no denoising.
        var ae = Presets.For(preset, ModelKind.Ae);
        Assert.Equal((ModelKind.Ae, 1e-6, 10, false), (ae.Model.Kind, ae.Optimizer.WeightDecay, ae.Optimizer.WarmupEpochs, ae.Augmentation.Denoising));
        var own = Presets.For(preset);
        Assert.Equal(Presets.Get(preset).Optimizer.WeightDecay, own.Optimizer.WeightDecay);
    }

    [Theory]
    [InlineData("cpu-small")]
    [InlineData("cpu-long")]
    public void CpuPresetsKeepOneSettingForTheThreeKinds(string preset)
    {
        var kinds = new[] { ModelKind.Aavae, ModelKind.Vae, ModelKind.Ae }.Select(k => Presets.For(preset, k)).ToList();
        Assert.Single(kinds.Select(o => (o.Optimizer.WeightDecay, o.Optimizer.WarmupEpochs, o.Optimizer.LearningRate, o.Data.BatchSize, o.Trainer.MaxEpochs, o.Optimizer.Decay, o.Model with { Kind = ModelKind.Aavae })).Distinct());
        Assert.Equal((true, 0.0), (kinds[0].Augmentation.Denoising, kinds[0].Objective.KlCoeff));
        Assert.Equal((false, 0.1), (kinds[1].Augmentation.Denoising, kinds[1].Objective.KlCoeff));
    }

    [Fact]
    public void CpuLongIsCpuSmallTrainedLongerWithACurve()
    {
        // The same model, precision and optimiser, so the long run extends the short one; its probes give the curve.
        var small = Presets.Get("cpu-small");
        var longer = Presets.Get("cpu-long");
        Assert.Equal((small.Model, small.Trainer.Precision, small.Data.BatchSize, small.Optimizer.LearningRate, small.Optimizer.Decay, small.Augmentation.CropScale), (longer.Model, longer.Trainer.Precision, longer.Data.BatchSize, longer.Optimizer.LearningRate, longer.Optimizer.Decay, longer.Augmentation.CropScale));
        Assert.Equal((32, Precision.Auto), (small.Model.Width, small.Trainer.Precision));
        Assert.True(longer.Trainer.MaxEpochs > 2 * small.Trainer.MaxEpochs);
        Assert.True(longer.Monitors.LinearProbeEvery > 0 && longer.Monitors.KnnEvery == longer.Monitors.LinearProbeEvery && longer.Trainer.CheckpointEvery == longer.Monitors.LinearProbeEvery);
        Assert.Equal(0, longer.Trainer.MaxEpochs % longer.Monitors.LinearProbeEvery);
    }

    [Fact]
    public void TheReferencesPresetsKeepDecoder50ForAnyEncoderAndCpuSmallFollowsTheEncoder()
    {
        Assert.Equal("decoder50", (Presets.For("paper").Model with { Encoder = "resnet18" }).DecoderName);
        Assert.Equal("decoder50", (Presets.For("reference").Model with { Encoder = "resnet34" }).DecoderName);
        Assert.Equal("decoder34", (Presets.For("cpu-small").Model with { Encoder = "resnet34" }).DecoderName);
    }

    [Fact]
    public void SetupLaysPresetKindDataSetAndExplicitSettingsInThatOrder()
    {
        var o = PretrainSetup.Resolve("cpu-small", ModelKind.Vae, "stl10", explicitly: x => x with { Data = x.Data with { BatchSize = 7 } });
        Assert.Equal((ModelKind.Vae, false, 0.1), (o.Model.Kind, o.Augmentation.Denoising, o.Objective.KlCoeff));
        Assert.Equal(("stl10", 96, Stem.Stl10), (o.Data.Dataset.Name, o.Model.InputHeight, o.Model.Stem));
        Assert.Equal((7, 32, 2), (o.Data.BatchSize, o.Model.Width, o.Trainer.MaxEpochs));
        var e = Assert.Throws<OptionException>(() => PretrainSetup.Resolve("paper", explicitly: x => x with { Optimizer = x.Optimizer with { LearningRate = 0 } }));
        Assert.Equal(nameof(OptimizerOptions.LearningRate), e.Option);
    }

    [Theory]
    [InlineData("runs/a/checkpoints/last.ckpt", "runs/a")]
    [InlineData("elsewhere/model.ckpt", "elsewhere")]
    public void ACheckpointBelongsToTheRunAroundIt(string checkpoint, string run) =>
        Assert.Equal(Path.GetFullPath(run), RunFolder.Containing(checkpoint));

    /// <summary>A config.json as versions before the grouped settings wrote it (version 0.3.0 development, a cpu-small run at width 8).</summary>
    private const string FlatConfiguration = """
        {"model": {"kind": "aavae", "encoder": "resnet18", "decoder": null, "stem": "cifar", "input_height": 32, "latent_dim": 64, "width": 8, "log_scale": 0, "learn_scale": false},
         "dataset": "fashion-mnist", "data_dir": null, "crop_scale": 0.08, "jitter_strength": null, "denoising": true, "kl_coeff": 0, "val_samples": 1,
         "optimizer": "lamb", "learning_rate": 0.003, "weight_decay": 0, "exclude_bn_bias": false, "warmup_epochs": 1, "max_epochs": 2, "decay": "cosine",
         "batch_size": 128, "seed": 0, "online_ft": true, "knn_every": 1, "knn_k": 200, "knn_temperature": 0.1, "linear_probe_every": 1, "init_from": null,
         "device": "auto", "memory_format": "channels_last", "precision": "bf16-mixed", "threads": 1, "checkpoint_every": 1, "limit_train_batches": 20,
         "limit_val_batches": 4, "max_steps": null, "kernel_check": {"device": "cpu", "threads": 2, "shapes_checked": 26}}
        """;

    [Fact]
    public void ARunConfigurationOfTheFlatFormReadsIntoItsGroups()
    {
        // What the flat form did not hold takes the record's defaults, the behaviour of its day:
        // the decoder at the encoder's width, the original image encoded every step.
        var small = Presets.Get("cpu-small");
        var expected = small with
        {
            Model = small.Model with { Width = 8, DecoderWidth = null },
            Objective = small.Objective with { OriginalEvery = 1 },
            Optimizer = small.Optimizer with { Algorithm = OptimizerKind.Lamb },
            Trainer = small.Trainer with { Precision = Precision.Bf16Mixed, Threads = 1, LimitTrainBatches = 20, LimitValBatches = 4 },
            Monitors = small.Monitors with { OnlineFt = true, KnnEvery = 1, LinearProbeEvery = 1 },
        };
        Assert.Equal(expected, PretrainOptions.FromJson(FlatConfiguration));
        // Written again, it is grouped: each group holds its own settings.
        var json = System.Text.Json.Nodes.JsonNode.Parse(PretrainOptions.FromJson(FlatConfiguration).ToJson())!;
        Assert.Equal(128, (int)json["data"]!["batch_size"]!);
        Assert.Equal("lamb", (string)json["optimizer"]!["algorithm"]!);
        Assert.Null(json["batch_size"]);
    }

    [Fact]
    public void AConfigurationWithAValueOutOfRangeNamesTheSettingAsTheFileSpellsIt()
    {
        var json = new PretrainOptions { Objective = new() { KlCoeff = -1 } }.ToJson();
        var e = Assert.Throws<InvalidDataException>(() => PretrainOptions.FromJson(json, "config.json"));
        Assert.Equal("config.json: its kl_coeff must be >= 0, got -1", e.Message);
    }
}

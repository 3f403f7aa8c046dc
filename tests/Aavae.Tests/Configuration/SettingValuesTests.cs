using Aavae.Configuration;
using Aavae.Data;
using Aavae.Models;
using Aavae.Runtime;
using Aavae.Training;
using Aavae.Options;

namespace Aavae.Tests.Configuration;

/// <summary>How settings are found on the records, read from text and applied: the library side of every command line.</summary>
public class SettingValuesTests
{
    [Theory]
    // Lightning's and the reference's spellings, and the enum's own name with or without separators.
    [InlineData(typeof(Precision), "32", Precision.Full32)]
    [InlineData(typeof(Precision), "BF16", Precision.Bf16Mixed)]
    [InlineData(typeof(Precision), "16-mixed", Precision.Fp16Mixed)]
    [InlineData(typeof(Precision), "Auto", Precision.Auto)]
    [InlineData(typeof(MemoryFormat), "channels-last", MemoryFormat.ChannelsLast)]
    [InlineData(typeof(MemoryFormat), "contiguous_format", MemoryFormat.Contiguous)]
    [InlineData(typeof(Stem), "image_net", Stem.ImageNet)]
    [InlineData(typeof(Stem), "cifar10", Stem.Cifar)]
    [InlineData(typeof(ModelKind), "AE", ModelKind.Ae)]
    public void AnEnumTakesItsNamesInAnySpelling(Type type, string text, object expected) =>
        Assert.Equal(expected, SettingValues.Parse(type, text, "X"));

    [Fact]
    public void ValuesReadAsTheirTypesAndABadOneNamesItsSetting()
    {
        Assert.Equal(true, SettingValues.Parse(typeof(bool), "", "Denoising"));
        Assert.Equal(false, SettingValues.Parse(typeof(bool), "0", "LearnScale"));
        Assert.Equal(2.5e-4, SettingValues.Parse(typeof(double), "2.5e-4", "LearningRate"));
        Assert.Equal((int?)3, SettingValues.Parse(typeof(int?), "3", "Threads"));
        Assert.Equal(DatasetInfo.Cifar10, SettingValues.Parse(typeof(DatasetInfo), "CIFAR-10", "Dataset"));
        Assert.Equal(DeviceChoice.Parse("cuda:1"), SettingValues.Parse(typeof(DeviceChoice), "cuda:1", "Device"));

        var e = Assert.Throws<OptionException>(() => SettingValues.Parse(typeof(int), "1.5", "BatchSize"));
        Assert.Equal(("BatchSize", "1.5: expected a whole number"), (e.Option, e.Problem));
        e = Assert.Throws<OptionException>(() => SettingValues.Parse(typeof(Precision), "fp8", "Precision"));
        Assert.Equal("fp8: expected 32-true, bf16-mixed, 16-mixed or auto", e.Problem);
        // A device's own refusal, re-addressed to the setting it was typed for.
        Assert.Equal("Device", Assert.Throws<OptionException>(() => SettingValues.Parse(typeof(DeviceChoice), "tpu", "Device")).Option);
    }

    [Fact]
    public void ANestedSettingIsSetOnACopyAndTheRecordIsLeftAlone()
    {
        var settings = Settings.Of(typeof(PretrainOptions));
        var logScale = settings.Single(s => s.Name == nameof(ModelOptions.LogScale));
        Assert.Equal("Model.LogScale", logScale.ToString());
        Assert.Equal("--log-scale", logScale.Flag);

        var start = Presets.For("cpu-small");
        var changed = Settings.With(start, [(logScale, -0.5), (settings.Single(s => s.Name == nameof(PretrainOptions.Seed)), 7)]);
        Assert.Equal((-0.5, 7), (changed.Model.LogScale, changed.Seed));
        Assert.Equal((0.0, 0), (start.Model.LogScale, start.Seed));
        // Everything else is the preset's.
        Assert.Equal(start with { Model = start.Model with { LogScale = -0.5 }, Seed = 7 }, changed);
    }

    [Fact]
    public void EverySettingOfEveryRecordHasHelpAndAValueReader()
    {
        var records = new[] { typeof(PretrainOptions), typeof(Aavae.Evaluation.LinearEvalOptions), typeof(Aavae.Evaluation.KnnOptions), typeof(Aavae.Jobs.EncoderSource),
            typeof(Aavae.Inference.EmbedOptions), typeof(Aavae.Visualization.ViewGridOptions) };
        foreach (var setting in records.SelectMany(Settings.Of))
        {
            Assert.False(string.IsNullOrWhiteSpace(setting.Help), setting.ToString());
            var initial = setting.Get(Activator.CreateInstance(setting.Path[0].DeclaringType!)!);
            // Whatever a setting holds by default prints as text that reads back to it.
            if (initial is not null && initial is not string)
                Assert.Equal(initial, setting.Parse(SettingValues.Format(initial)));
        }
    }

    [Theory]
    [InlineData("00:01:30:00", 90 * 60)]
    [InlineData("01:30:00", 90 * 60)]
    [InlineData("90m", 90 * 60)]
    [InlineData("1.5h", 90 * 60)]
    [InlineData("45s", 45)]
    [InlineData("2d", 2 * 86400)]
    public void ADurationReadsInLightningsAndDotNetsSpellings(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), SettingValues.Parse<TimeSpan>(text, "MaxTime"));

    [Theory]
    [InlineData("90x")]
    [InlineData("00:25:00:00")]
    [InlineData("m")]
    [InlineData("1e300h")]
    public void ADurationThatIsNoneIsRefusedNamingItsSetting(string text) =>
        Assert.Equal("MaxTime", Assert.Throws<OptionException>(() => SettingValues.Parse<TimeSpan>(text, "MaxTime")).Option);

    [Fact]
    public void ARangeDeclaredOnASettingIsCheckedAndSaidWithItsBounds()
    {
        // (0, 1]: the crop keeps some of the picture and at most all of it.
        var e = Assert.Throws<OptionException>(() => Settings.Check(new Aavae.Augmentation.AugmentationOptions { CropScale = 0 }));
        Assert.Equal(("CropScale", "must lie in (0, 1], got 0"), (e.Option, e.Problem));
        e = Assert.Throws<OptionException>(() => Settings.Check(new Aavae.Options.PretrainOptions { Trainer = new() { Threads = 0 } }));
        Assert.Equal(("Threads", "must lie in [1, 4096], got 0"), (e.Option, e.Problem));
        e = Assert.Throws<OptionException>(() => Settings.Check(new Aavae.Options.TrainerOptions { MaxTime = TimeSpan.Zero }));
        Assert.Equal(("MaxTime", "must be > 0, got 0"), (e.Option, e.Problem));
        e = Assert.Throws<OptionException>(() => new Aavae.Evaluation.LinearEvalOptions { Momentum = 1 }.Validate());
        Assert.Equal(("Momentum", "must lie in [0, 1), got 1"), (e.Option, e.Problem));
        Settings.Check(new Aavae.Augmentation.AugmentationOptions { CropScale = 1, JitterStrength = null });
    }
}

using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aavae.Checkpoints;
using Aavae.Configuration;
using Aavae.Data;
using Aavae.Evaluation;
using Aavae.Training;
using Aavae.Runs;
using Aavae.Options;

namespace Aavae.Tests.Cli;

/// <summary>
/// Every setting of the option records, typed on the command line at a value other than its default,
/// arrives where the run keeps it: pretrain's in config.json and (those the reference knows) in the
/// checkpoint's hyper-parameters; linear evaluation's in its result file. A number, switch or choice
/// added to pretrain's records is typed at a value its type and declared range give (<see cref="Other"/>);
/// a setting of another type without a value here fails the first test, so that its way through is checked too.
/// </summary>
[Trait(Category.Name, Category.Slow)]
public class SettingRoundTripTests
{
    /// <summary>Values that differ from the paper preset's under --model vae and still train one tiny step, where <see cref="Other"/> would not.</summary>
    private static readonly Dictionary<string, string> Pretrain = new()
    {
        ["Kind"] = "vae", ["Encoder"] = "resnet18", ["Decoder"] = "decoder18", ["Stem"] = "stl10", ["LatentDim"] = "8", ["Width"] = "4", ["DecoderWidth"] = "8",
        ["LogScale"] = "-0.25", ["LearnScale"] = "1", ["Dataset"] = "fashion-mnist", ["DataDir"] = FashionMnist.ShippedDirectory,
        ["CropScale"] = "0.3", ["JitterStrength"] = "0.4", ["Denoising"] = "true", ["KlCoeff"] = "0.05", ["ValSamples"] = "2",
        ["Algorithm"] = "lamb", ["LearningRate"] = "0.001", ["WeightDecay"] = "1e-05", ["ExcludeBnBias"] = "true", ["WarmupEpochs"] = "0.5",
        ["MaxEpochs"] = "3", ["Decay"] = "cosine", ["BatchSize"] = "16", ["Seed"] = "7", ["OnlineFt"] = "true", ["KnnEvery"] = "0",
        ["KnnK"] = "20", ["KnnTemperature"] = "0.2", ["LinearProbeEvery"] = "5", ["Device"] = "cpu", ["MemoryFormat"] = "contiguous",
        ["Precision"] = "bf16-mixed", ["Threads"] = "1", ["CheckpointEvery"] = "5", ["LimitTrainBatches"] = "2", ["LimitValBatches"] = "1", ["MaxSteps"] = "1",
        ["CacheDir"] = "picture-cache",
    };

    /// <summary>Typed at its default (a value other than it would cost a second run); its parsing is still exercised by a value the record must hold.</summary>
    private static readonly Dictionary<string, string> AtDefault = new()
    {
        // The image size must be the data set's (32 for Fashion-MNIST).
        ["InputHeight"] = "32",
    };

    /// <summary>init_from needs a checkpoint first (PretrainerTests runs it); files lists a picture folder's pictures (PictureFolderTests).</summary>
    private static readonly HashSet<string> NotTyped = ["InitFrom", "Files"];

    /// <summary>The reference's hyper-parameter name of a setting, where it is not the setting's name in snake case.</summary>
    private static readonly Dictionary<string, string> HyperName = new() { ["Encoder"] = "encoder_name", ["Decoder"] = "decoder_name", ["Kind"] = "model", ["Algorithm"] = "optimizer" };

    /// <summary>
    /// A value other than <paramref name="current"/> for a number, switch or choice, inside the range its
    /// <see cref="SettingAttribute"/> declares: what a new setting of those types is typed at here.
    /// </summary>
    private static string? Other(Setting s, object? current)
    {
        var t = Nullable.GetUnderlyingType(s.ValueType) ?? s.ValueType;
        double min = double.IsNaN(s.Attribute.Min) ? 0 : s.Attribute.Min, max = double.IsNaN(s.Attribute.Max) ? double.MaxValue : s.Attribute.Max;
        double Next(double value) => value + 1 <= max ? value + 1 : (min + value) / 2;
        if (t == typeof(bool)) return current is true ? "false" : "true";
        if (t.IsEnum) return SettingValues.Names(t).First(n => n != SettingValues.Format(current));
        if (t == typeof(int) || t == typeof(long)) return ((long)(current is null ? Math.Max(min, 1) : Next(System.Convert.ToDouble(current)))).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (t == typeof(double)) return (current is null ? Math.Max(min, 1) : Next((double)current)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (t == typeof(TimeSpan)) return current is null ? "01:00:00" : "00:" + SettingValues.Format(current)[3..];
        return null;
    }

    [Fact]
    public void EveryPretrainSettingTypedArrivesInConfigJsonAndTheCheckpointsHyperParameters()
    {
        var settings = Settings.Of(typeof(PretrainOptions));
        var paperVae = Presets.For("paper", Aavae.Models.ModelKind.Vae);
        var values = settings.Where(s => !NotTyped.Contains(s.Name))
            .ToDictionary(s => s.Name, s => Pretrain.GetValueOrDefault(s.Name) ?? AtDefault.GetValueOrDefault(s.Name) ?? Other(s, s.Get(paperVae)));
        Assert.True(values.All(v => v.Value is not null), $"no value to type for {string.Join(", ", values.Where(v => v.Value is null).Select(v => v.Key))}: add one to {nameof(Pretrain)}");
        // What would hold without the flag: the paper's AAVAE for --model, its VAE for the rest (the kind decides denoising and kl_coeff).
        foreach (var s in settings.Where(s => Pretrain.ContainsKey(s.Name) && s.Name != "Dataset"))
        {
            var defaults = Presets.For("paper", s.Name == "Kind" ? null : Aavae.Models.ModelKind.Vae);
            Assert.True(!Equals(s.Get(defaults), s.Parse(Pretrain[s.Name])), $"{s.Flag} {Pretrain[s.Name]} is the default: pick another value");
        }

        var dir = TempDir.Create();
        var typed = settings.Where(s => !NotTyped.Contains(s.Name)).SelectMany(s => new[] { s.Flag, values[s.Name]! });
        var (code, _, err) = CliRunner.Run(dir, ["pretrain", .. typed, "--output", "run"]);
        Assert.True(code == 0, err);

        var run = new RunFolder(Path.Combine(dir, "run"));
        var config = PretrainOptions.Read(run.Config);
        var hyper = (IDictionary)TorchFile.Read(run.LastCheckpoint)["hyper_parameters"]!;
        foreach (var s in settings.Where(s => !NotTyped.Contains(s.Name)))
        {
            var value = s.Parse(values[s.Name]!);
            Assert.True(Equals(value, s.Get(config)), $"{s.Flag}: typed {SettingValues.Format(value)}, config.json holds {SettingValues.Format(s.Get(config))}");
            var name = HyperName.GetValueOrDefault(s.Name) ?? JsonNamingPolicy.SnakeCaseLower.ConvertName(s.Name);
            if (HyperParameters.Names.Contains(name))
                Assert.True(SettingValues.Format(value) == SettingValues.Format(hyper[name] is string text && s.ValueType != typeof(string) ? s.Parse(text) : Convert(hyper[name], s.ValueType)),
                    $"{s.Flag}: typed {SettingValues.Format(value)}, the checkpoint's {name} is {hyper[name]}");
        }
        // The decay is two of the reference's ints.
        Assert.Equal((1, 0), (hyper["cosine_decay"], hyper["linear_decay"]));
    }

    [Fact]
    public void EveryLinearEvalSettingTypedArrivesInTheResultFile()
    {
        var dir = TempDir.Create();
        var (code, _, err) = CliRunner.Run(dir, ["pretrain", .. PretrainCommandTests.Small, "--max-steps", "1", "--limit-val-batches", "0", "--output", "run"]);
        Assert.True(code == 0, err);

        var values = new Dictionary<string, string>
        {
            ["Epochs"] = "2", ["BatchSize"] = "64", ["LearningRate"] = "0.05", ["Momentum"] = "0.8", ["Nesterov"] = "false", ["WeightDecay"] = "0.0001",
            ["Features"] = "cached", ["Seed"] = "3", ["LimitTrainBatches"] = "2", ["LimitEvalBatches"] = "1", ["Test"] = "false",
            ["Standardize"] = "false", ["Threads"] = "1",
        };
        var settings = Settings.Of(typeof(LinearEvalOptions));
        Assert.Equal(settings.Select(s => s.Name).Order(), values.Keys.Order());
        var defaults = new LinearEvalOptions();
        foreach (var s in settings) Assert.True(!Equals(s.Get(defaults), s.Parse(values[s.Name])), $"{s.Flag} {values[s.Name]} is the default: pick another value");

        (code, _, err) = CliRunner.Run(dir, ["linear-eval", "--checkpoint", "run", "--device", "cpu", .. settings.SelectMany(s => new[] { s.Flag, values[s.Name] }), "--output", "result.json"]);
        Assert.True(code == 0, err);
        var options = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "result.json")))!["options"]!.AsObject();
        foreach (var s in settings)
        {
            var saved = options[JsonNamingPolicy.SnakeCaseLower.ConvertName(s.Name)]!;
            var value = s.Parse(values[s.Name]);
            var read = saved.GetValueKind() == JsonValueKind.String ? s.Parse(saved.GetValue<string>()) : Convert(JsonSerializer.Deserialize<object>(saved.ToJsonString()), s.ValueType);
            Assert.True(SettingValues.Format(value) == SettingValues.Format(read), $"{s.Flag}: typed {values[s.Name]}, the result file holds {saved.ToJsonString()}");
        }
    }

    private static object? Convert(object? value, Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (value is JsonElement e)
            value = e.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, JsonValueKind.Number => e.GetDouble(), _ => e.ToString() };
        return value is null ? null : t == typeof(bool) && value is not bool ? System.Convert.ToInt64(value) != 0 : System.Convert.ChangeType(value, t, System.Globalization.CultureInfo.InvariantCulture);
    }
}

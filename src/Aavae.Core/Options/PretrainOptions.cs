using System.Text.Json;
using System.Text.Json.Nodes;
using Aavae.Augmentation;
using Aavae.Configuration;
using Aavae.Data;
using Aavae.Evaluation;
using Aavae.IO;
using Aavae.Models;
using Aavae.Objectives;
using Aavae.Optimization;

namespace Aavae.Options;

/// <summary>
/// Everything that defines a pre-training run (the reference's src/vae.py arguments), in the groups
/// LightningCLI gives them: each group is its consumer's own record, taken whole. A setting is a
/// property with a <see cref="SettingAttribute"/> (its flag, help and range) in one of them. The
/// defaults are the <c>paper</c> preset (<see cref="Presets"/>).
/// </summary>
public sealed record PretrainOptions
{
    public ModelOptions Model { get; init; } = new() { Decoder = Presets.ReferenceDecoder };
    public ObjectiveOptions Objective { get; init; } = new();
    public DataOptions Data { get; init; } = new();
    public AugmentationOptions Augmentation { get; init; } = new();
    public OptimizerOptions Optimizer { get; init; } = new();
    public TrainerOptions Trainer { get; init; } = new();
    public MonitorOptions Monitors { get; init; } = new();

    [Setting("seed for initialisation, data order and augmentation")]
    public int Seed { get; init; }

    /// <summary>Start from these weights (a published Lightning .ckpt, an export, another run) instead of a random initialisation.</summary>
    [Setting("start a new run from these weights alone (e.g. a published Lightning .ckpt) instead of a random initialisation; the optimizer and schedule start afresh")]
    public string? InitFrom { get; init; }

    /// <summary>Throws an <see cref="OptionException"/> naming the first bad value: a range declared on a setting, then the model's relations between settings.</summary>
    public void Validate()
    {
        Settings.Check(this);
        Model.Validate();
    }

    /// <summary>
    /// The settings whose values differ from <paramref name="baseline"/>'s, as the command line types
    /// them (flag, value), in declaration order; max_epochs is left out when a time budget decides it.
    /// </summary>
    public IReadOnlyList<(string Flag, string Value)> Differences(PretrainOptions baseline)
    {
        bool asTimeAllows = Trainer.MaxEpochs == TrainerOptions.AsTimeAllows;
        return Settings.Of(typeof(PretrainOptions))
            .Where(s => !(asTimeAllows && s.Name == nameof(TrainerOptions.MaxEpochs)))
            .Where(s => !Equals(SettingValues.Format(s.Get(this)), SettingValues.Format(s.Get(baseline))))
            .Select(s => (s.Flag, SettingValues.Format(s.Get(this)))).ToList();
    }

    /// <summary>
    /// The command that starts this run afresh: the preset it differs least from, and each setting
    /// that differs (a time budget's run repeats its budget, not the steps it planned).
    /// </summary>
    public string Command()
    {
        var preset = Presets.All.MinBy(p => Differences(p.Options).Count)!;
        static string Quote(string v) => v.Length > 0 && v.All(c => char.IsLetterOrDigit(c) || "-_./:=,+".Contains(c)) ? v : "'" + v.Replace("'", "'\\''") + "'";
        return string.Join(" ", new[] { "aavae pretrain --preset", preset.Name }.Concat(Differences(preset.Options).Select(d => $"{d.Flag} {Quote(d.Value)}")));
    }

    public string ToJson() => JsonSerializer.Serialize(this, SnakeCaseJson.Options);

    /// <summary>A run configuration (config.json, or the one a checkpoint carries), checked as <see cref="Validate"/> checks a new one; the flat form of earlier versions is read too.</summary>
    /// <param name="source">Named in a refusal: the file it came from.</param>
    public static PretrainOptions FromJson(string json, string source = "run configuration")
    {
        try
        {
            var root = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"{source}: empty run configuration");
            var options = Grouped(root).Deserialize<PretrainOptions>(SnakeCaseJson.Options) ?? throw new InvalidDataException($"{source}: empty run configuration");
            options.Validate();
            return options;
        }
        catch (OptionException e)
        {
            throw new InvalidDataException($"{source}: its {JsonNamingPolicy.SnakeCaseLower.ConvertName(e.Option)} {e.Problem}");
        }
        catch (JsonException e)
        {
            // Its own message quotes the rest of the document.
            throw new InvalidDataException($"{source}: not a readable run configuration (invalid JSON at line {e.LineNumber + 1}, {e.Path ?? "$"})");
        }
        catch (Exception e) when (e is NotSupportedException or ArgumentException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new InvalidDataException($"{source}: not a readable run configuration ({PrintableText.Of(e.Message)})");
        }
    }

    /// <summary>
    /// A configuration with its settings in their groups. Versions before the groups wrote every
    /// setting but the model's at the top level, under its flag's name in snake case
    /// (<c>"batch_size"</c>, <c>"optimizer": "adam"</c>); each is moved into its group, so that
    /// their run folders and checkpoints still resume.
    /// </summary>
    private static JsonObject Grouped(JsonObject root)
    {
        var moved = new List<(string Group, string Name, JsonNode? Value)>();
        foreach (var setting in Settings.Of(typeof(PretrainOptions)).Where(s => s.Path.Count == 2 && s.Path[0].Name != nameof(Model)))
        {
            string flat = setting.Flag.TrimStart('-').Replace('-', '_');
            if (!root.TryGetPropertyValue(flat, out var value) || value is JsonObject) continue;
            root.Remove(flat);
            moved.Add((JsonNamingPolicy.SnakeCaseLower.ConvertName(setting.Path[0].Name), JsonNamingPolicy.SnakeCaseLower.ConvertName(setting.Name), value));
        }
        foreach (var (group, name, value) in moved)
        {
            if (root[group] is not JsonObject target) root[group] = target = [];
            target[name] = value;
        }
        return root;
    }

    /// <summary>Reads a run's config.json.</summary>
    public static PretrainOptions Read(string path) =>
        File.Exists(path) ? FromJson(File.ReadAllText(path), path) : throw new FileNotFoundException($"{path}: no such run configuration", path);
}

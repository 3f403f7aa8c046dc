using System.CommandLine;
using Aavae.Configuration;
using Aavae.Models;
using Aavae.Training;
using Aavae.Options;

namespace Aavae.Cli;

/// <summary>Option factories shared by the commands: kebab-case names that also accept the reference's snake_case.</summary>
internal static class CliOptions
{
    public static Option<T> Create<T>(string name, string description, T defaultValue)
    {
        var snake = "--" + name[2..].Replace('-', '_');
        var option = snake == name ? new Option<T>(name) : new Option<T>(name, snake);
        option.Description = description;
        option.DefaultValueFactory = _ => defaultValue;
        return option;
    }

    /// <summary>For the commands without a record of their own (summary, doctor).</summary>
    public static Option<string> Device() =>
        Create("--device", "auto (CUDA when available), cpu, cuda or cuda:N", "auto");

    /// <summary>The option records whose settings error messages name by flag.</summary>
    public static readonly Type[] Records =
        [typeof(PretrainOptions), typeof(Evaluation.LinearEvalOptions), typeof(Jobs.EncoderSource), typeof(Evaluation.KnnOptions), typeof(Inference.EmbedOptions), typeof(Inference.NeighborsOptions), typeof(Visualization.ViewGridOptions)];

    /// <summary>
    /// pretrain's help for a setting: its one default when every preset and model kind agree, else
    /// what each model kind sets (denoising, kl_coeff) or what each preset sets, from the library's presets themselves.
    /// </summary>
    public static string PresetDefault(Setting setting)
    {
        if (PretrainSetup.DatasetDecides.Contains(setting.Name)) return "default: the data set's";
        var byKind = Enum.GetValues<ModelKind>().Select(k => (Name: "--model " + SettingValues.Name(k), Value: setting.Get(Presets.For("paper", k)))).ToList();
        var byPreset = Presets.Names.Select(n => (Name: n, Value: setting.Get(Presets.For(n)))).ToList();
        bool KindDecides() => setting.Name != nameof(ModelOptions.Kind) && byKind.Select(v => SettingValues.Format(v.Value)).Distinct().Count() > 1;
        if (byPreset.Select(v => SettingValues.Format(v.Value)).Distinct().Count() == 1 && !KindDecides())
            return $"default: {SettingValues.Format(byPreset[0].Value)}";
        return Values(KindDecides() ? byKind : byPreset);
    }

    /// <summary>What each preset sets, presets that agree grouped: "paper, reference: 128 | cpu-small: 64".</summary>
    private static string Values(IEnumerable<(string Name, object? Value)> values) =>
        string.Join(" | ", values.GroupBy(v => SettingValues.Format(v.Value), v => v.Name).Select(g => $"{string.Join(", ", g)}: {g.Key}"));
}

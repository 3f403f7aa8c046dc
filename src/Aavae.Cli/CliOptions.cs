using System.CommandLine;
using System.Globalization;
using Aavae.Configuration;
using Aavae.Models;
using Aavae.Training;

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

    public static Option<string> Device() =>
        Create("--device", "auto (CUDA when available), cpu, cuda or cuda:N", "auto");

    /// <summary>The option records whose properties carry the settings' flags and help.</summary>
    public static readonly Type[] Records = [typeof(PretrainOptions), typeof(ModelOptions), typeof(Evaluation.LinearEvalOptions)];

    /// <summary>An option for the library setting <paramref name="setting"/>: its flag, help and aliases as the option record declares them.</summary>
    public static Option<T> ForSetting<T>(string setting, T defaultValue, string? help = null)
    {
        var option = Create(Settings.Flag(setting, Records), help ?? Settings.Help(setting, Records), defaultValue);
        foreach (var alias in Settings.Aliases(setting, Records)) option.Aliases.Add(alias);
        return option;
    }

    /// <summary>
    /// An option whose value, unless typed, comes from the preset (or the resumed run): no default of
    /// its own, and its help lists what each preset sets, from the library's presets themselves.
    /// </summary>
    public static Option<T> FromPreset<T>(string setting, Func<PretrainOptions, object?> value, string? help = null)
    {
        var option = ForSetting<T>(setting, default!, help);
        option.Description += $" [{PresetValues(value)}]";
        option.DefaultValueFactory = null;
        return option;
    }

    /// <summary>Like <see cref="FromPreset"/>, for a setting the model kind decides (denoising, kl_coeff).</summary>
    public static Option<T> FromKind<T>(string setting, Func<PretrainOptions, object?> value)
    {
        var option = ForSetting<T>(setting, default!);
        option.Description += $" [--model {Values(Enum.GetValues<ModelKind>().Select(k => (k.ToString().ToLowerInvariant(), value(Presets.For("paper", k)))))}]";
        option.DefaultValueFactory = null;
        return option;
    }

    /// <summary>What each preset sets, presets that agree grouped: "paper, reference: 128 | cpu-small: 64".</summary>
    public static string PresetValues(Func<PretrainOptions, object?> value) => Values(Presets.Names.Select(n => (n, value(Presets.For(n)))));

    private static string Values(IEnumerable<(string Name, object? Value)> values) =>
        string.Join(" | ", values.GroupBy(v => Format(v.Value), v => v.Name).Select(g => $"{string.Join(", ", g)}: {g.Key}"));

    private static string Format(object? value) => value switch
    {
        null => "none",
        bool b => b ? "on" : "off",
        double d => d.ToString("G", CultureInfo.InvariantCulture),
        Enum e => e.ToString().ToLowerInvariant(),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}

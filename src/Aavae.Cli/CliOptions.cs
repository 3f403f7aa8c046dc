using System.CommandLine;
using System.Globalization;
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

    /// <summary>
    /// An option whose value, unless typed, comes from the preset (or the resumed run): no default of
    /// its own, and its help lists what each preset sets, from the library's presets themselves.
    /// </summary>
    public static Option<T> FromPreset<T>(string name, string description, Func<PretrainOptions, object?> value)
    {
        var option = Create<T>(name, $"{description} [{Values(Presets.Names.Select(n => (n, value(Presets.For(n)))))}]", default!);
        option.DefaultValueFactory = null;
        return option;
    }

    /// <summary>Like <see cref="FromPreset"/>, for a setting the model kind decides (denoising, kl_coeff).</summary>
    public static Option<T> FromKind<T>(string name, string description, Func<PretrainOptions, object?> value)
    {
        var kinds = Enum.GetValues<ModelKind>().Select(k => (k.ToString().ToLowerInvariant(), value(Presets.For("paper", k))));
        var option = Create<T>(name, $"{description} [--model {Values(kinds)}]", default!);
        option.DefaultValueFactory = null;
        return option;
    }

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

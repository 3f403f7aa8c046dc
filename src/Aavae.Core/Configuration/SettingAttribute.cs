using System.Reflection;
using System.Text;

namespace Aavae.Configuration;

/// <summary>
/// How a setting is described and spelled wherever it is set, kept on the option record's property
/// (as ML.NET's option classes carry theirs): a line of help, the command line's flag when it is not
/// the property's name in kebab case, and the reference's own spelling when it differs from the
/// flag's snake case. Defaults are the property's initial value and the presets'.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SettingAttribute(string help) : Attribute
{
    public string Help { get; } = help;

    /// <summary>The command line's flag, when it is not <c>--</c> and the property's name in kebab case.</summary>
    public string? Flag { get; init; }

    /// <summary>Other spellings the reference's command line used (<c>--data_path</c> for <c>--data-dir</c>).</summary>
    public string[] Aliases { get; init; } = [];
}

/// <summary>Reads <see cref="SettingAttribute"/>s: what front ends print and accept for a setting.</summary>
public static class Settings
{
    /// <summary>The setting named <paramref name="property"/> on the first of <paramref name="records"/> that declares it, or null.</summary>
    public static SettingAttribute? Find(string property, params Type[] records) =>
        records.Select(t => t.GetProperty(property)?.GetCustomAttribute<SettingAttribute>()).FirstOrDefault(a => a is not null);

    /// <summary>The command line's flag of a setting (or of any option name): its declared flag, else <c>--</c> and its name in kebab case.</summary>
    public static string Flag(string property, params Type[] records) => Find(property, records)?.Flag ?? "--" + Kebab(property);

    public static string Help(string property, params Type[] records) =>
        Find(property, records)?.Help ?? throw new ArgumentException($"no setting named {property}");

    public static IReadOnlyList<string> Aliases(string property, params Type[] records) => Find(property, records)?.Aliases ?? [];

    private static string Kebab(string name)
    {
        var b = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) b.Append('-');
            b.Append(char.ToLowerInvariant(name[i]));
        }
        return b.ToString();
    }
}

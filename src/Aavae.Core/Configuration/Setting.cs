using System.Reflection;
using System.Text;
using Aavae.Options;

namespace Aavae.Configuration;

/// <summary>
/// One <see cref="SettingAttribute"/> property of an option record, reached from the record it
/// belongs to (<c>PretrainOptions.Model.LogScale</c> has the path Model, LogScale).
/// </summary>
public sealed class Setting(IReadOnlyList<PropertyInfo> path, SettingAttribute attribute)
{
    public IReadOnlyList<PropertyInfo> Path { get; } = path;
    public SettingAttribute Attribute { get; } = attribute;

    /// <summary>The property's name, as an <see cref="OptionException"/> names the setting.</summary>
    public string Name => Path[^1].Name;

    public string Flag => Attribute.Flag ?? "--" + Kebab(Name);

    public string Help => Attribute.Help;

    public IReadOnlyList<string> Aliases => Attribute.Aliases;

    /// <summary>The value's type, nullable included (<c>double?</c> for a setting whose null means "the data set's").</summary>
    public Type ValueType => Path[^1].PropertyType;

    /// <summary>This setting's value in <paramref name="record"/>, the root record of its path.</summary>
    public object? Get(object record)
    {
        object? value = record;
        foreach (var p in Path) value = value is null ? null : p.GetValue(value);
        return value;
    }

    /// <summary>A copy of <paramref name="record"/> with this setting at <paramref name="value"/>; the record itself is unchanged.</summary>
    public T With<T>(T record, object? value) where T : class => (T)With(record, 0, value);

    private object With(object record, int depth, object? value)
    {
        var property = Path[depth];
        var copy = Records.Clone(record);
        property.SetValue(copy, depth == Path.Count - 1 ? value : With(property.GetValue(record)!, depth + 1, value));
        return copy;
    }

    /// <summary>The text typed for this setting, as its value; an <see cref="OptionException"/> naming it otherwise.</summary>
    public object? Parse(string text) => SettingValues.Parse(ValueType, text, Name);

    public override string ToString() => string.Join('.', Path.Select(p => p.Name));

    internal static string Kebab(string name)
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

/// <summary>Copies of option records: their compiler-made clone, which <c>with</c> calls too.</summary>
internal static class Records
{
    public static object Clone(object record) =>
        record.GetType().GetMethod("<Clone>$")?.Invoke(record, null)
        ?? throw new ArgumentException($"{record.GetType().Name} is not a record");
}

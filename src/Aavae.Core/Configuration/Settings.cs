using System.Reflection;
using Aavae.Options;

namespace Aavae.Configuration;

/// <summary>
/// The settings of the option records, read from their <see cref="SettingAttribute"/>s: what front
/// ends list, accept and apply. A setting exists because its property does; adding one is a property
/// with the attribute, and its use.
/// </summary>
public static class Settings
{
    /// <summary>
    /// Every setting of <paramref name="record"/> in declaration order, those of the records it holds
    /// (<c>PretrainOptions.Model</c>) where that record's property stands.
    /// </summary>
    public static IReadOnlyList<Setting> Of(Type record) => Of(record, []).ToList();

    private static IEnumerable<Setting> Of(Type record, PropertyInfo[] prefix)
    {
        foreach (var p in record.GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.MetadataToken))
        {
            if (p.GetCustomAttribute<SettingAttribute>() is { } attribute)
                yield return new Setting([.. prefix, p], attribute);
            else if (p.CanWrite && p.PropertyType.IsClass && p.PropertyType.GetMethod("<Clone>$") is not null)
                foreach (var nested in Of(p.PropertyType, [.. prefix, p])) yield return nested;
        }
    }

    /// <summary><paramref name="record"/> with each of <paramref name="values"/> set, in order.</summary>
    public static T With<T>(T record, IEnumerable<(Setting Setting, object? Value)> values) where T : class =>
        values.Aggregate(record, (r, v) => v.Setting.With(r, v.Value));

    /// <summary>The setting named <paramref name="property"/> on the first of <paramref name="records"/> that declares it, or null.</summary>
    public static Setting? Find(string property, params Type[] records) =>
        records.SelectMany(Of).FirstOrDefault(s => s.Name == property);

    /// <summary>The command line's flag of a setting (or of any option name): its declared flag, else <c>--</c> and its name in kebab case.</summary>
    public static string Flag(string property, params Type[] records) => Find(property, records)?.Flag ?? "--" + Setting.Kebab(property);

    /// <summary>
    /// Throws an <see cref="OptionException"/> naming the first setting of <paramref name="record"/>
    /// (nested records included) whose value is outside its declared range; every number must be finite.
    /// </summary>
    public static void Check(object record)
    {
        foreach (var setting in Of(record.GetType()))
            switch (setting.Get(record))
            {
                case double or int or long: CheckRange(setting, Convert.ToDouble(setting.Get(record), System.Globalization.CultureInfo.InvariantCulture)); break;
                case TimeSpan time: CheckRange(setting, time.TotalSeconds); break;
            }
    }

    private static void CheckRange(Setting setting, double value)
    {
        var a = setting.Attribute;
        string got = $", got {SettingValues.Format(value)}";
        string why = a.RangeReason is null ? "" : $" ({a.RangeReason})";
        OptionException.Check(double.IsFinite(value), setting.Name, $"must be a finite number{got}");
        bool low = double.IsNaN(a.Min) || (a.MinExclusive ? value > a.Min : value >= a.Min);
        bool high = double.IsNaN(a.Max) || (a.MaxExclusive ? value < a.Max : value <= a.Max);
        if (low && high) return;
        string min = SettingValues.Format(a.Min), max = SettingValues.Format(a.Max);
        string range = double.IsNaN(a.Max) ? $"must be {(a.MinExclusive ? ">" : ">=")} {min}"
            : double.IsNaN(a.Min) ? $"must be {(a.MaxExclusive ? "<" : "<=")} {max}"
            : $"must lie in {(a.MinExclusive ? "(" : "[")}{min}, {max}{(a.MaxExclusive ? ")" : "]")}";
        throw new OptionException(setting.Name, range + why + got);
    }
}

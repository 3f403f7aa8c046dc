using System.Globalization;
using System.Reflection;
using System.Text.Json;

namespace Aavae.Configuration;

/// <summary>
/// Settings' values as text, both ways: what a flag's text means for the property's type, and how a
/// value is printed. Enums take their member's name in any case with or without <c>-</c> and
/// <c>_</c> (<c>channels_last</c>, <c>channels-last</c>), or a <see cref="SettingNameAttribute"/>'s
/// names; types with a static <c>Parse(string)</c> (a device, a data set) parse themselves.
/// </summary>
public static class SettingValues
{
    /// <summary>The text of setting <paramref name="setting"/> as a <paramref name="type"/>; an <see cref="OptionException"/> naming it otherwise.</summary>
    public static object? Parse(Type type, string text, string setting)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        var s = text.Trim();
        if (t == typeof(string)) return text;
        if (t == typeof(bool))
            return s.ToLowerInvariant() switch
            {
                // A flag alone (--denoising) is true; vae.py's int flags (--learn_scale 1) are 1 and 0.
                "" or "true" or "1" or "yes" or "on" => true,
                "false" or "0" or "no" or "off" => false,
                _ => throw new OptionException(setting, $"{text}: expected true or false (or 1 and 0)"),
            };
        if (t == typeof(int))
            return int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) ? i
                : throw new OptionException(setting, $"{text}: expected a whole number");
        if (t == typeof(long))
            return long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l) ? l
                : throw new OptionException(setting, $"{text}: expected a whole number");
        if (t == typeof(double))
            return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d
                : throw new OptionException(setting, $"{text}: expected a number");
        if (t == typeof(TimeSpan)) return ParseDuration(s) ?? throw new OptionException(setting, $"{text}: expected a duration: DD:HH:MM:SS, HH:MM:SS, or a number with s, m, h or d (90m)");
        if (t.IsEnum) return ParseEnum(t, s, setting);
        if (t.GetMethod("Parse", BindingFlags.Public | BindingFlags.Static, [typeof(string)]) is { } parse && parse.ReturnType == t)
        {
            try
            {
                return parse.Invoke(null, [s]);
            }
            catch (TargetInvocationException e) when (e.InnerException is OptionException o)
            {
                throw new OptionException(setting, o.Problem);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                // Its own message names the value and what was expected (unknown dataset 'x': ...).
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            }
        }
        throw new ArgumentException($"setting {setting}: no reader for values of type {t.Name}");
    }

    public static T Parse<T>(string text, string setting) => (T)Parse(typeof(T), text, setting)!;

    /// <summary>A value as the command line and the help spell it: on/off, invariant numbers, an enum's first name.</summary>
    public static string Format(object? value) => value switch
    {
        null => "none",
        bool b => b ? "on" : "off",
        double d => d.ToString("G", CultureInfo.InvariantCulture),
        TimeSpan time => $"{(int)time.TotalDays:D2}:{time.Hours:D2}:{time.Minutes:D2}:{time.Seconds:D2}",
        Enum e => Name(e),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>An enum value's printed name: its first <see cref="SettingNameAttribute"/> name, else its member's name in snake case.</summary>
    public static string Name(Enum value) => Names(value.GetType(), value.ToString())[0];

    /// <summary>Every enum value's printed name, in declaration order.</summary>
    public static IReadOnlyList<string> Names(Type enumType) =>
        Enum.GetNames(enumType).Select(n => Names(enumType, n)[0]).ToList();

    private static IReadOnlyList<string> Names(Type enumType, string member) =>
        enumType.GetField(member)?.GetCustomAttribute<SettingNameAttribute>()?.Names is { Count: > 0 } names
            ? names
            : [JsonNamingPolicy.SnakeCaseLower.ConvertName(member)];

    /// <summary>Lightning's max_time spellings (DD:HH:MM:SS), .NET's (HH:MM:SS, D.HH:MM:SS), or a number with a unit; null when none fits.</summary>
    private static TimeSpan? ParseDuration(string text)
    {
        var parts = text.Split(':');
        if (parts.Length == 4 && parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            var n = parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
            return n[1] < 24 && n[2] < 60 && n[3] < 60 && n[0] <= TimeSpan.MaxValue.Days - 1 ? new TimeSpan(n[0], n[1], n[2], n[3]) : null;
        }
        if (parts.Length >= 2) return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) ? span : null;
        if (text.Length < 2) return null;
        double seconds = char.ToLowerInvariant(text[^1]) switch { 's' => 1, 'm' => 60, 'h' => 3600, 'd' => 86400, _ => double.NaN };
        return !double.IsNaN(seconds) && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var count)
            && double.IsFinite(count) && count * seconds < TimeSpan.MaxValue.TotalSeconds / 2
            ? TimeSpan.FromSeconds(count * seconds) : null;
    }

    private static object ParseEnum(Type t, string text, string setting)
    {
        static string Plain(string s) => s.Replace("-", "").Replace("_", "").ToLowerInvariant();
        foreach (var member in Enum.GetNames(t))
            if (Plain(member) == Plain(text) || Names(t, member).Any(n => Plain(n) == Plain(text)))
                return Enum.Parse(t, member);
        var all = Names(t);
        throw new OptionException(setting, $"{text}: expected {string.Join(", ", all.Take(all.Count - 1))} or {all[^1]}");
    }
}

namespace Aavae.Configuration;

/// <summary>
/// How a setting is described and spelled wherever it is set, kept on the option record's property
/// (as ML.NET's option classes carry theirs): a line of help, the command line's flag when it is not
/// the property's name in kebab case, and the reference's own spelling when it differs from the
/// flag's snake case. The flag exists because the property does (<see cref="Settings.Of(Type)"/>); its
/// default is the property's initial value (or the preset's).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SettingAttribute(string help) : Attribute
{
    public string Help { get; } = help;

    /// <summary>The command line's flag, when it is not <c>--</c> and the property's name in kebab case.</summary>
    public string? Flag { get; init; }

    /// <summary>Other spellings the reference's command line used (<c>--data_path</c> for <c>--data-dir</c>).</summary>
    public string[] Aliases { get; init; } = [];

    /// <summary>The smallest value allowed (NaN: none); <see cref="Settings.Check"/> refuses a value below it, naming the setting.</summary>
    public double Min { get; init; } = double.NaN;

    /// <summary>The largest value allowed (NaN: none).</summary>
    public double Max { get; init; } = double.NaN;

    /// <summary>The value must lie above <see cref="Min"/>, not at it (a learning rate, a temperature).</summary>
    public bool MinExclusive { get; init; }

    /// <summary>The value must lie below <see cref="Max"/>, not at it (a momentum).</summary>
    public bool MaxExclusive { get; init; }

    /// <summary>Why the range is what it is, when the bound alone does not say (printed after the refusal).</summary>
    public string? RangeReason { get; init; }
}

/// <summary>
/// The names an enum value takes in settings, the first one printed: needed where the member's
/// name is not the spelling (<c>Precision.Full32</c> is <c>32-true</c>, also <c>32</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Field)]
public sealed class SettingNameAttribute(params string[] names) : Attribute
{
    public IReadOnlyList<string> Names { get; } = names;
}

using System.CommandLine;
using Aavae.Configuration;

namespace Aavae.Cli;

/// <summary>
/// The command line of an option record, in the spirit of LightningCLI: a flag for each setting the
/// record declares (<see cref="Settings.Of(Type)"/>; its kebab-case name, the reference's snake_case
/// and the aliases it declares), its text read by the library (<see cref="SettingValues"/>), and
/// applied over a record only where the user typed it. Defaults live in the records alone.
/// </summary>
internal sealed class SettingOptions
{
    private readonly List<(Setting Setting, Option<string?> Option)> options = [];

    /// <param name="record">The option record whose settings become flags.</param>
    /// <param name="defaults">What the help says a setting's default is; null: the record's initial value.</param>
    /// <param name="include">Which of the record's settings this command takes; null: all.</param>
    /// <param name="required">Which of them the command cannot run without (a parse error with the usage, as any missing option).</param>
    public SettingOptions(Type record, Func<Setting, string>? defaults = null, Func<Setting, bool>? include = null, Func<Setting, bool>? required = null)
    {
        var initial = Activator.CreateInstance(record)!;
        foreach (var setting in Settings.Of(record).Where(include ?? (_ => true)))
        {
            var shown = defaults?.Invoke(setting) ?? $"default: {SettingValues.Format(setting.Get(initial))}";
            var help = setting.Help.Contains("default:", StringComparison.Ordinal) ? setting.Help : $"{setting.Help} [{shown}]";
            var option = CliOptions.Create<string?>(setting.Flag, required?.Invoke(setting) == true ? setting.Help : help, null);
            option.DefaultValueFactory = null;
            option.Required = required?.Invoke(setting) == true;
            foreach (var alias in setting.Aliases) option.Aliases.Add(alias);
            // A switch alone (--denoising) means true, as argparse's store_true; a value may follow.
            if ((Nullable.GetUnderlyingType(setting.ValueType) ?? setting.ValueType) == typeof(bool)) option.Arity = ArgumentArity.ZeroOrOne;
            options.Add((setting, option));
        }
    }

    public void AddTo(Command command)
    {
        foreach (var (_, option) in options) command.Options.Add(option);
    }

    /// <summary>Every setting the user typed, with its value.</summary>
    public IReadOnlyList<(Setting Setting, object? Value)> Typed(ParseResult r) =>
        options.Where(o => r.IsExplicit(o.Option)).Select(o => (o.Setting, o.Setting.Parse(r.GetValue(o.Option) ?? ""))).ToList();

    /// <summary><paramref name="record"/> with the settings the user typed laid over it.</summary>
    public T Apply<T>(ParseResult r, T record) where T : class => Settings.With(record, Typed(r));

    /// <summary>The value typed for the setting named <paramref name="name"/>, or null when it was not typed.</summary>
    public object? Value(ParseResult r, string name) => Typed(r).FirstOrDefault(t => t.Setting.Name == name).Value;

    /// <summary>The spelling the user typed for the setting named <paramref name="name"/> (<c>--batch_size</c>), or null.</summary>
    public string? Spelling(ParseResult r, string name) =>
        options.Where(o => o.Setting.Name == name).Select(o => r.GetResult(o.Option)?.IdentifierToken?.Value).FirstOrDefault(s => s is not null);
}

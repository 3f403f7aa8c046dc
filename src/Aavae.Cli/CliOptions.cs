using System.CommandLine;

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
}

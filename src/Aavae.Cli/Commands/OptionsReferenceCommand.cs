using System.CommandLine;
using System.Text;
using System.Text.RegularExpressions;

namespace Aavae.Cli.Commands;

/// <summary>
/// Writes docs/options.md: every command's options as its <c>--help</c> prints them (the help text
/// itself, laid out as tables), so the page and the help cannot say different things.
/// </summary>
internal static partial class OptionsReferenceCommand
{
    public static Command Create(RootCommand root)
    {
        var command = new Command("options-reference", "Print every command's options as Markdown (docs/options.md)") { Hidden = true };
        command.SetAction(_ =>
        {
            Console.Out.Write(Markdown(root));
            return 0;
        });
        return command;
    }

    public static string Markdown(RootCommand root)
    {
        var page = new StringBuilder();
        page.Append("""
            # Every option

            What does each command take, and what does each option default to? This page is each
            command's `--help`, laid out as tables. It is generated from the option records
            (`dotnet run -c Release --project src/Aavae.Cli -- options-reference > docs/options.md`), and a
            test fails when it is stale.

            """);
        page.AppendLine();
        page.AppendLine(string.Join(" · ", root.Subcommands.Where(c => !c.Hidden).Select(c => $"[{c.Name}](#{c.Name})")));
        foreach (var command in root.Subcommands.Where(c => !c.Hidden))
        {
            var (description, rows) = Help(root, command);
            page.AppendLine();
            page.AppendLine($"## {command.Name}");
            page.AppendLine();
            page.AppendLine(description);
            page.AppendLine();
            page.AppendLine("| option | what it does |");
            page.AppendLine("| --- | --- |");
            foreach (var (names, text) in rows) page.AppendLine($"| `{names}` | {Escape(text)} |");
        }
        return page.ToString();
    }

    /// <summary>A command's description and its options' rows, read from the help it prints.</summary>
    public static (string Description, List<(string Names, string Text)> Rows) Help(RootCommand root, Command command)
    {
        var output = new StringWriter();
        root.Parse([command.Name, "--help"]).Invoke(new InvocationConfiguration { Output = output });
        var lines = output.ToString().Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        string description = string.Join(' ', Section(lines, "Description:").Select(l => l.Trim()));
        var rows = new List<(string, string)>();
        foreach (var line in Section(lines, "Options:"))
        {
            var parts = TwoSpaces().Split(line.Trim(), 2);
            if (parts[0].StartsWith("-?", StringComparison.Ordinal)) continue;
            rows.Add((parts[0], parts.Length > 1 ? parts[1] : ""));
        }
        return (description, rows);
    }

    private static IEnumerable<string> Section(List<string> lines, string title) =>
        lines.SkipWhile(l => l != title).Skip(1).TakeWhile(l => l.StartsWith("  ", StringComparison.Ordinal));

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    [GeneratedRegex(" {2,}")]
    private static partial Regex TwoSpaces();
}

using System.Text.RegularExpressions;
using Aavae.Tests.Packaging;

namespace Aavae.Tests.Cli;

/// <summary>docs/options.md is generated from the commands' options: it must be current, and say what each command's --help says.</summary>
public class OptionsReferenceTests
{
    private static string Page => Path.Combine(PackedFeed.Root, "docs", "options.md");

    [Fact]
    public void TheOptionsPageIsCurrent()
    {
        var (code, generated, err) = CliRunner.Run(TempDir.Create(), "options-reference");
        Assert.True(code == 0, err);
        Assert.True(generated == File.ReadAllText(Page),
            "docs/options.md is stale: regenerate it with `dotnet run -c Release --project src/Aavae.Cli -- options-reference > docs/options.md`");
    }

    [Fact]
    public void EveryCommandsHelpListsTheOptionsThePageDoesWithTheSameWords()
    {
        var sections = Regex.Split(File.ReadAllText(Page), "^## ", RegexOptions.Multiline).Skip(1).ToList();
        Assert.True(sections.Count >= 10, $"{sections.Count} commands on the page");
        foreach (var section in sections)
        {
            string command = section[..section.IndexOf('\n')].Trim();
            var onPage = Regex.Matches(section, @"^\| `(?<names>[^`]+)` \| (?<text>.*) \|$", RegexOptions.Multiline)
                .Select(m => $"{m.Groups["names"].Value} :: {m.Groups["text"].Value.Replace("\\|", "|").Replace("&lt;", "<").Replace("&gt;", ">")}").ToList();
            var (code, help, err) = CliRunner.Run(TempDir.Create(), command, "--help");
            Assert.True(code == 0, err);
            var inHelp = help.Split('\n').SkipWhile(l => l.TrimEnd() != "Options:").Skip(1).TakeWhile(l => l.StartsWith("  ", StringComparison.Ordinal))
                .Select(l => new Regex(" {2,}").Split(l.Trim(), 2)).Where(p => !p[0].StartsWith("-?", StringComparison.Ordinal))
                .Select(p => $"{p[0]} :: {(p.Length > 1 ? p[1] : "")}").ToList();
            Assert.True(inHelp.Count > 0, $"{command} --help lists no options: {help}");
            Assert.Equal(inHelp, onPage);
        }
    }
}

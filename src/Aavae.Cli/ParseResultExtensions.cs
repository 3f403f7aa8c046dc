using System.CommandLine;

namespace Aavae.Cli;

internal static class ParseResultExtensions
{
    /// <summary>True when the user typed the option, as opposed to its default applying.</summary>
    public static bool IsExplicit(this ParseResult r, Option option) => r.GetResult(option) is { Implicit: false };
}

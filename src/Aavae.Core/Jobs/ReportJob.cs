using Aavae.Configuration;
using Aavae.Reports;
using Aavae.Runs;

namespace Aavae.Jobs;

/// <summary><c>aavae report</c> as one call: the page of one run folder, or of several side by side, written from their files.</summary>
public static class ReportJob
{
    /// <param name="runs">Run folders; one alone without <paramref name="output"/> gets its own <c>report.html</c> rewritten.</param>
    /// <param name="output">An .html file; required with several runs.</param>
    /// <returns>The page's path.</returns>
    public static string Run(IReadOnlyList<string> runs, string? output)
    {
        OptionException.Check(runs.Count > 0, "Runs", "expected at least one run folder");
        OptionException.Check(output is not null || runs.Count == 1, "Out", "is required with several runs: their page side by side is written there");
        OptionException.Check(output is null || Path.GetExtension(output).ToLowerInvariant() is ".html" or ".htm", "Out", $"{output}: expected a file name ending in .html");
        OptionException.Check(output is null || !Directory.Exists(output), "Out", $"{output} is a folder; expected an .html file name");
        var records = runs.Select(RunRecord.Read).ToList();
        var path = output ?? Path.Combine(runs[0], ReportPage.FileName);
        ReportPage.Write(path, records, ReportState.Read);
        return path;
    }

    /// <summary>
    /// A run folder's page written again after a later evaluation of it added a result; nothing for a
    /// checkpoint outside a run folder. The evaluation's result is written by then: a page that cannot
    /// be written is said through <paramref name="say"/>, not thrown.
    /// </summary>
    public static void Refresh(string runFolder, Action<string>? say = null)
    {
        if (File.Exists(new RunFolder(runFolder).Config)) ReportPage.TryWriteFor(runFolder, ReportState.Read, say);
    }
}

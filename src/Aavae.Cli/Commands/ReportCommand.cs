using System.CommandLine;
using Aavae.Jobs;

namespace Aavae.Cli.Commands;

/// <summary><c>aavae report</c>: a run's page written again from its folder, or several runs' side by side.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var runs = new Argument<string[]>("runs") { Description = "run folders (AAVAE beside the VAE and the AE, say)", Arity = ArgumentArity.OneOrMore };
        var output = CliOptions.Create<string?>("--out", "the page to write (.html); required with several runs (default for one run: report.html in its folder)", null);
        output.Aliases.Add("--output");
        var command = new Command("report", "One self-contained HTML page of a run (or of several, curves overlaid): summary, curves, reconstructions, t-SNE map, neighbours, confusion matrix, configuration");
        command.Arguments.Add(runs);
        command.Options.Add(output);
        command.SetAction(r =>
        {
            var path = ReportJob.Run(r.GetValue(runs)!, r.GetValue(output));
            Console.WriteLine($"wrote {path}");
            return 0;
        });
        return command;
    }
}

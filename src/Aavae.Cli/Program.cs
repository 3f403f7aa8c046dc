using System.CommandLine;
using Aavae.Cli;
using Aavae.Cli.Commands;

var root = new RootCommand("AAVAE for .NET: augmentation-augmented variational autoencoders on TorchSharp");
root.Subcommands.Add(SummaryCommand.Create());
root.Subcommands.Add(ShowViewsCommand.Create());
root.Subcommands.Add(DownloadCommand.Create());
root.Subcommands.Add(PretrainCommand.Create());
root.Subcommands.Add(LinearEvalCommand.Create());
root.Subcommands.Add(KnnCommand.Create());
root.Subcommands.Add(PlotCommand.Create());
root.Subcommands.Add(ReportCommand.Create());
root.Subcommands.Add(EmbedCommand.Create());
root.Subcommands.Add(NeighborsCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(DoctorCommand.Create());
root.Subcommands.Add(KernelTrialCommand.Create());
root.Subcommands.Add(DecodePicturesCommand.Create());

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    Console.Error.WriteLine($"aavae: error: {parsed.Errors[0].Message} (see '{parsed.CommandResult.Command.Name} --help')");
    return ErrorReporting.BadInput;
}
// Expected failures are reported by ErrorReporting as one line; System.CommandLine would print a stack trace.
return ErrorReporting.Run(() => parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }));

using System.CommandLine;
using Aavae.Cli;
using Aavae.Cli.Commands;

var root = AavaeCommand.Create();

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    Console.Error.WriteLine($"aavae: error: {parsed.Errors[0].Message} (see '{parsed.CommandResult.Command.Name} --help')");
    return ErrorReporting.BadInput;
}
// Expected failures are reported by ErrorReporting as one line; System.CommandLine would print a stack trace.
return ErrorReporting.Run(() => parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }));

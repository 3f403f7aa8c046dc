using System.Reflection;
using Aavae.Configuration;

namespace Aavae.Tests.Cli;

/// <summary>
/// The command line's exit codes (sysexits.h's spirit): bad input 2, a failure of the machine or
/// the run 1, and the program's own mistakes 70, read from the aavae program's one mapping.
/// </summary>
public class ErrorReportingTests
{
    private static int ExitCodeOf(Exception e)
    {
        var cli = Assembly.LoadFrom(CliRunner.Program);
        var report = cli.GetType("Aavae.Cli.ErrorReporting", throwOnError: true)!.GetMethod("Report", BindingFlags.Public | BindingFlags.Static)!;
        var error = Console.Error;
        Console.SetError(TextWriter.Null);
        try
        {
            return (int)report.Invoke(null, [e, ""])!;
        }
        finally
        {
            Console.SetError(error);
        }
    }

    [Fact]
    public void ANullOrOutOfRangeArgumentIsABugNotBadInput()
    {
        Assert.Equal(70, ExitCodeOf(new ArgumentOutOfRangeException("rank", "shard 3 of 2")));
        Assert.Equal(70, ExitCodeOf(new ArgumentNullException("text")));
        Assert.Equal(70, ExitCodeOf(new NullReferenceException()));
    }

    [Fact]
    public void ABadValueOrFileIsBadInputAndAFailedRunIsOne()
    {
        Assert.Equal(2, ExitCodeOf(new OptionException("BatchSize", "must be >= 1, got 0")));
        Assert.Equal(2, ExitCodeOf(new ArgumentException("--output x.png already exists")));
        Assert.Equal(2, ExitCodeOf(new InvalidDataException("f.ckpt: truncated")));
        Assert.Equal(1, ExitCodeOf(new IOException("disk full")));
    }
}

using Aavae.Configuration;
using Aavae.Runtime;
using Aavae.Training;
using Aavae.Runs;

namespace Aavae.Cli;

/// <summary>
/// The one place that turns failures into one line and an exit code: bad input and missing files
/// (2), failures of the machine or the run (1), and anything unforeseen (70, a bug: its type and
/// message on one line, and the stack trace too with AAVAE_DEBUG=1). Nothing leaves the process as
/// an unhandled exception.
/// </summary>
internal static class ErrorReporting
{
    public const int BadInput = 2;
    public const int Failure = 1;
    /// <summary>sysexits.h's EX_SOFTWARE: an internal error.</summary>
    public const int Internal = 70;

    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    /// <summary>Writes one line for any failure (expected ones as <see cref="Run"/> does, others by type and message) and returns its exit code.</summary>
    public static int Report(Exception e, string prefix = "")
    {
        var (message, code) = Describe(e) ?? ($"internal error, please report it: {e.GetType().Name}: {e.Message}", Internal);
        Console.Error.WriteLine($"aavae: {prefix}error: {Aavae.IO.PrintableText.Of(message, 1000)}");
        if (Environment.GetEnvironmentVariable("AAVAE_DEBUG") == "1") Console.Error.WriteLine(e);
        return code;
    }

    private static (string Message, int Code)? Describe(Exception e) => e switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => Describe(a.InnerException!),
        System.Reflection.TargetInvocationException { InnerException: { } inner } => Describe(inner),
        OptionException o => ($"{Flag(o.Option)} {o.Problem}", BadInput),
        // A null or out-of-range argument is the program's own mistake: input is checked before it gets that far.
        ArgumentNullException or ArgumentOutOfRangeException => null,
        ArgumentException a => (a.Message, BadInput),
        FileNotFoundException f => (f.Message, BadInput),
        DirectoryNotFoundException d => (d.Message, BadInput),
        InvalidDataException i => (i.Message, BadInput),
        TorchLoadException t => (t.Message, Failure),
        Aavae.Distributed.MpiUnavailableException m => (m.Message, Failure),
        NonFiniteLossException n => (n.Message, Failure),
        Aavae.Kernels.KernelCheckException k => (k.Message, Failure),
        RunFolderException r => (r.Message, BadInput),
        UnauthorizedAccessException u => ($"{u.Message} (this user may not write or read there)", BadInput),
        IOException io => (io.Message, Failure),
        OutOfMemoryException => (OutOfMemory(null), Failure),
        System.Runtime.InteropServices.ExternalException x when x.Message.Contains("allocate", StringComparison.OrdinalIgnoreCase) => (OutOfMemory(x.Message), Failure),
        HttpRequestException h => ($"download failed: {h.Message}", Failure),
        _ => null,
    };

    /// <summary>libtorch's "DefaultCPUAllocator: can't allocate memory: you tried to allocate N bytes", said with the size and what to lower.</summary>
    private static string OutOfMemory(string? libtorch)
    {
        var bytes = libtorch is null ? null : System.Text.RegularExpressions.Regex.Match(libtorch, @"allocate (\d+) bytes") is { Success: true } m ? m.Groups[1].Value : null;
        var size = bytes is not null && double.TryParse(bytes, System.Globalization.CultureInfo.InvariantCulture, out var b)
            ? $" ({b / (1 << 30):0.#} GB for one tensor)" : "";
        return $"out of memory{size}: the model or batch does not fit in this machine's memory; lower --width, --batch-size or --input-size";
    }

    /// <summary>The command line's spelling of a library setting: the flag its option record declares (KlCoeff -> --kl-coeff).</summary>
    public static string Flag(string option) => Settings.Flag(option, CliOptions.Records);
}

using Aavae.Configuration;
using Aavae.Runtime;
using Aavae.Training;

namespace Aavae.Cli;

/// <summary>Turns expected failures (bad input, missing files, a libtorch that will not load) into one line and an exit code.</summary>
internal static class ErrorReporting
{
    public const int BadInput = 2;
    public const int Failure = 1;

    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (Describe(e) is { } d)
        {
            Console.Error.WriteLine($"aavae: error: {d.Message}");
            return d.Code;
        }
    }

    /// <summary>Writes one line for any failure (expected ones as <see cref="Run"/> does, others by type and message) and returns its exit code.</summary>
    public static int Report(Exception e, string prefix = "")
    {
        var (message, code) = Describe(e) ?? ($"{e.GetType().Name}: {e.Message}", Failure);
        Console.Error.WriteLine($"aavae: {prefix}error: {message.ReplaceLineEndings(" ")}");
        return code;
    }

    private static (string Message, int Code)? Describe(Exception e) => e switch
    {
        OptionException o => ($"{Flag(o.Option)} {o.Problem}", BadInput),
        ArgumentException a => (a.Message, BadInput),
        FileNotFoundException f => (f.Message, BadInput),
        DirectoryNotFoundException d => (d.Message, BadInput),
        InvalidDataException i => (i.Message, BadInput),
        TorchLoadException t => (t.Message, Failure),
        Aavae.Distributed.MpiUnavailableException m => (m.Message, Failure),
        NonFiniteLossException n => (n.Message, Failure),
        Aavae.Kernels.KernelCheckException k => (k.Message, Failure),
        IOException io => (io.Message, Failure),
        HttpRequestException h => ($"download failed: {h.Message}", Failure),
        _ => null,
    };

    /// <summary>The command line's spelling of a library setting: the flag its option record declares (KlCoeff -> --kl-coeff).</summary>
    public static string Flag(string option) => Settings.Flag(option, CliOptions.Records);
}

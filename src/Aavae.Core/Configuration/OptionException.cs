using Aavae.Options;
namespace Aavae.Configuration;

/// <summary>
/// A setting has a value it cannot take. <see cref="Option"/> names the setting as the library's
/// option records do (<c>nameof(ObjectiveOptions.KlCoeff)</c>); a front end maps it to its own
/// spelling (the command line's <c>--kl-coeff</c>) and prints <see cref="Problem"/> after it.
/// </summary>
public sealed class OptionException(string option, string problem) : ArgumentException($"{option} {problem}")
{
    public string Option { get; } = option;

    /// <summary>What is wrong, to follow the option's name: "must be >= 0, got -0.1".</summary>
    public string Problem { get; } = problem;

    /// <summary>Throws unless <paramref name="ok"/>.</summary>
    public static void Check(bool ok, string option, string problem)
    {
        if (!ok) throw new OptionException(option, problem);
    }
}

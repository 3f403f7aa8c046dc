using System.CommandLine;
using Aavae.Kernels;

namespace Aavae.Cli.Commands;

/// <summary><c>aavae kernel-trial</c> (hidden): the convolution guard's trial process, serving requests on standard input (<see cref="KernelTrial"/>).</summary>
internal static class KernelTrialCommand
{
    public static Command Create()
    {
        var command = new Command("kernel-trial", "Serve the convolution guard's trials on standard input (started by the guard itself)") { Hidden = true };
        command.SetAction(_ => KernelTrial.Serve(Console.In, Console.Out));
        return command;
    }
}

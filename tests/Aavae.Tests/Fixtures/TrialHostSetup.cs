using System.Runtime.CompilerServices;
using Aavae.Kernels;

namespace Aavae.Tests;

/// <summary>
/// The convolution guard of this test process runs its trials in the built <c>aavae</c> program,
/// as the command line does: a kernel that crashes or hangs on this CPU ends a trial process, not
/// the test host. Set before any test touches <see cref="KernelGuard.Shared"/>.
/// </summary>
internal static class TrialHostSetup
{
    [ModuleInitializer]
    internal static void UseTheBuiltProgram()
    {
        if (Environment.GetEnvironmentVariable(TrialHost.Variable) is null)
            Environment.SetEnvironmentVariable(TrialHost.Variable, CliRunner.Program);
    }
}

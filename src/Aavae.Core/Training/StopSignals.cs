using System.Runtime.InteropServices;

namespace Aavae.Training;

/// <summary>
/// Ctrl-C and the SIGTERM a launcher or scheduler sends, as a run's stop request: the first asks the
/// loop to stop after the current step and write last.ckpt; a second one is left to kill the
/// process, for a step stuck in a native kernel cannot be interrupted from inside.
/// </summary>
public sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly Action<string>? say;
    private readonly ConsoleCancelEventHandler onCancel;
    private readonly PosixSignalRegistration onTerm;

    /// <param name="say">Told, once, that the run is stopping; null: silent (the other processes of a data-parallel run).</param>
    public StopSignals(Action<string>? say)
    {
        this.say = say;
        onCancel = (_, e) => e.Cancel = Request("Ctrl-C");
        Console.CancelKeyPress += onCancel;
        onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => c.Cancel = Request("SIGTERM"));
    }

    public CancellationToken Token => stop.Token;

    /// <summary>Told which signal asked, when the first one arrives (a <see cref="StalledStepWatch"/>).</summary>
    public event Action<string>? Requested;

    /// <returns>Whether the signal was taken as a stop request (false: the second one, which kills).</returns>
    public bool Request(string how)
    {
        if (stop.IsCancellationRequested) return false;
        stop.Cancel();
        say?.Invoke($"{how}: stopping after this step ({how} again to kill without a checkpoint)");
        Requested?.Invoke(how);
        return true;
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= onCancel;
        onTerm.Dispose();
        stop.Dispose();
    }
}

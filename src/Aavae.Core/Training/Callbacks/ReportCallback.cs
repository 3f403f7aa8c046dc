using Aavae.Reports;
using Aavae.Runs;

namespace Aavae.Training.Callbacks;

/// <summary>
/// Writes the run's page (<see cref="ReportPage"/>) after each epoch, so that a person can open it
/// while the run trains: that page reloads itself. The run writes its last page when it ends.
/// </summary>
public sealed class ReportCallback(RunFolder run, Action<string>? say = null) : ITrainingCallback
{
    private bool said;

    public void OnEpochEnd(EpochEnd epoch)
    {
        var path = ReportPage.WriteFor(run.Path, ReportState.Training);
        if (said) return;
        say?.Invoke($"the run's page: {path} (open it in a browser; it reloads every minute while the run trains)");
        said = true;
    }
}

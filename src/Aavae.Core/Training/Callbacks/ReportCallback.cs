using Aavae.Reports;
using Aavae.Runs;

namespace Aavae.Training.Callbacks;

/// <summary>
/// Writes the run's page (<see cref="ReportPage"/>) after each epoch, so that a person can open it
/// while the run trains: that page reloads itself. The run writes its last page when it ends. A page
/// that cannot be written (a full disk, a folder made read-only) is said once and never ends the run.
/// </summary>
public sealed class ReportCallback(RunFolder run, Action<string>? say = null) : ITrainingCallback
{
    private bool said;

    public void OnEpochEnd(EpochEnd epoch)
    {
        // Where the page is, or why it is not, is said at the first epoch only.
        bool first = !said;
        said = true;
        var path = ReportPage.TryWriteFor(run.Path, ReportState.Training, first ? say : null);
        if (first && path is not null) say?.Invoke($"the run's page: {path} (open it in a browser; it reloads every minute while the run trains)");
    }
}

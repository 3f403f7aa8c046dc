namespace Aavae.Options;

/// <summary>
/// The length a time budget (<c>--max-time</c>) fixed for a run once it had measured its speed:
/// the optimizer steps it trains, and the warm-up the learning-rate schedule takes of them, so the
/// decay ends where the run ends. A resumed run keeps it.
/// </summary>
/// <param name="Steps">The run's last global step.</param>
/// <param name="WarmupSteps">The linear warm-up's length; the decay runs over the rest.</param>
public sealed record TimePlan(long Steps, long WarmupSteps);

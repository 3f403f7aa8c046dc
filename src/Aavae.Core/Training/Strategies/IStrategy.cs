using Aavae.Data;
using Aavae.Distributed;

namespace Aavae.Training.Strategies;

/// <summary>
/// Where the loop's processes meet (Lightning's Strategy): one device alone, or several processes
/// each training on its shard of every global batch. The loop calls it at three points of a run,
/// in this order: at fit start, between each step's backward pass and its optimizer step, and when
/// a validation pass has summed its batches.
/// </summary>
public interface IStrategy : IDisposable
{
    /// <summary>The processes this run trains on (1 on one device).</summary>
    IProcessGroup Group { get; }

    /// <summary>This process's share of every batch.</summary>
    Shard Shard => Group.Shard();

    /// <summary>Before the first step: every process starts from the same weights.</summary>
    void Setup() { }

    /// <summary>
    /// Between backward and the optimizer: the step's gradients and metrics as every process will
    /// use them (their averages), and whether any process was asked to stop.
    /// </summary>
    /// <returns>Whether the run stops after this step.</returns>
    bool ReduceStep(AfterBackward step) => step.StopRequested;

    /// <summary>A validation pass's sums over every process's shard.</summary>
    void ReduceValidation(MetricSums sums) { }

    /// <summary>After the last step and its epoch's end (or a stop), on every process: from here a process may end.</summary>
    void Teardown() { }

    /// <summary>One line for the start of a run; null on one device.</summary>
    string? Describe() => null;
}

/// <summary>One process on one device: nothing to share.</summary>
public sealed class SingleDevice : IStrategy
{
    public IProcessGroup Group { get; } = new SingleProcess();

    public void Dispose() { }
}

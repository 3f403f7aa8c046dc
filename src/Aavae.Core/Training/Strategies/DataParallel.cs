using Aavae.Distributed;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Aavae.Training.Strategies;

/// <summary>
/// Data-parallel training over a process group (Lightning's DDP strategy, on MPI): at fit start
/// every process takes rank 0's parameters and buffers (a fresh start, or a resumed one); after
/// each backward pass one all-reduce averages the gradients and the step's metrics, agrees on a
/// stop, and hands out rank 0's BatchNorm running statistics; validation sums are added up over
/// the processes. Batch statistics stay per process, as DDP's default (no SyncBatchNorm).
/// </summary>
public sealed class DataParallel : IStrategy
{
    private readonly nn.Module model;
    private readonly nn.Module? probe;
    private readonly int batchSize;
    private readonly GradientBucket bucket;
    private readonly System.Diagnostics.Stopwatch reduceClock = new();
    private long reducedSteps;
    private LostProcessWatch? watch;

    /// <param name="model">Every parameter and buffer of it starts as rank 0's; its floating-point buffers (BatchNorm's running statistics) are rank 0's after each step.</param>
    /// <param name="trainable">The parameters the optimizer updates, whose gradients are averaged.</param>
    /// <param name="probe">A layer trained beside the model on its features (the online probe), averaged in its own bucket; null: none.</param>
    /// <param name="batchSize">The global batch, shared out over the processes.</param>
    public DataParallel(IProcessGroup group, nn.Module model, IReadOnlyList<Parameter> trainable, nn.Module? probe, int batchSize)
    {
        Group = group;
        this.model = model;
        this.probe = probe;
        this.batchSize = batchSize;
        var runningStatistics = model.named_buffers().Select(b => b.buffer).Where(b => b.is_floating_point()).ToList();
        bucket = new GradientBucket(group, trainable, runningStatistics);
        // The probe's forward pass runs the encoder in training mode, which moves its running
        // statistics again: its all-reduce hands out rank 0's once more.
        ProbeBucket = probe is null ? null : new GradientBucket(group, probe.parameters().ToList(), runningStatistics);
    }

    public IProcessGroup Group { get; }

    /// <summary>Averages the online probe's gradients, for its callback.</summary>
    public GradientBucket? ProbeBucket { get; }

    /// <summary>Floats all-reduced each step (gradients, metric slots, running statistics); known after the first step.</summary>
    public long FloatsPerStep => bucket.Floats;

    public void Setup()
    {
        watch?.Dispose();
        watch = new LostProcessWatch(Group, line =>
        {
            Console.Error.WriteLine($"aavae: {line}");
            Console.Error.Flush();
        });
        var tensors = model.parameters().Select(p => (Tensor)p).Concat(model.named_buffers().Select(b => b.buffer));
        if (probe is not null) tensors = tensors.Concat(probe.parameters());
        foreach (var t in tensors) Group.Broadcast(t, root: 0);
    }

    public bool ReduceStep(AfterBackward step)
    {
        reduceClock.Start();
        step.StopRequested = bucket.Average(step.Metrics, step.StopRequested);
        reduceClock.Stop();
        reducedSteps++;
        return step.StopRequested;
    }

    /// <summary>Seconds a step spent in its all-reduce so far, on average: the transfer, and the wait for the slowest process.</summary>
    public double AllReduceSecondsPerStep => reducedSteps == 0 ? 0 : reduceClock.Elapsed.TotalSeconds / reducedSteps;

    /// <summary>One line for the end of a run: what crossed between the processes each step, and the time it took.</summary>
    public string Summary() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"data-parallel: {bucket.Bytes / 1e6:F2} MB all-reduced a step ({FloatsPerStep:N0} values), {AllReduceSecondsPerStep * 1e3:F1} ms a step in the all-reduce (waits for the slowest process included), over {reducedSteps} steps");

    public void ReduceValidation(MetricSums sums) => sums.AllReduce(Group);

    /// <summary>
    /// Stops watching the other processes, then waits for all: a process that is done cannot leave
    /// while another still watches it (rank 0 writes the last checkpoint after the others are done).
    /// </summary>
    public void Teardown()
    {
        watch?.Stop();
        Group.Any(false);
    }

    public string Describe()
    {
        int threads = get_num_threads();
        return $"data-parallel: {Group.Size} processes over {Group.Backend}, {batchSize / Group.Size} images each per step, {threads} thread{(threads == 1 ? "" : "s")} each; " +
            $"ranks at host:pid {string.Join(", ", Group.Places.Select((place, rank) => $"{rank} {place}"))}";
    }

    public void Dispose()
    {
        watch?.Dispose();
        bucket.Dispose();
        ProbeBucket?.Dispose();
    }
}

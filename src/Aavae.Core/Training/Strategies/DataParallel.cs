using Aavae.Distributed;
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
    private readonly PretrainModule module;
    private readonly OnlineProbe? probe;
    private readonly GradientBucket bucket;

    public DataParallel(IProcessGroup group, PretrainModule module, OnlineProbe? probe)
    {
        Group = group;
        this.module = module;
        this.probe = probe;
        var runningStatistics = module.Model.named_buffers().Select(b => b.buffer).Where(b => b.is_floating_point()).ToList();
        bucket = new GradientBucket(group, module.Trainable, runningStatistics);
        // The probe's forward pass runs the encoder in training mode, which moves its running
        // statistics again: its all-reduce hands out rank 0's once more.
        ProbeBucket = probe is null ? null : new GradientBucket(group, probe.Layer.parameters().ToList(), runningStatistics);
    }

    public IProcessGroup Group { get; }

    /// <summary>Averages the online probe's gradients, for its callback.</summary>
    public GradientBucket? ProbeBucket { get; }

    /// <summary>Floats all-reduced each step (gradients, metric slots, running statistics); known after the first step.</summary>
    public long FloatsPerStep => bucket.Floats;

    public void Setup()
    {
        var tensors = module.Model.parameters().Select(p => (Tensor)p).Concat(module.Model.named_buffers().Select(b => b.buffer));
        if (probe is not null) tensors = tensors.Concat(probe.Layer.parameters());
        foreach (var t in tensors) Group.Broadcast(t, root: 0);
    }

    public bool ReduceStep(AfterBackward step) => step.StopRequested = bucket.Average(step.Metrics, step.StopRequested);

    public void ReduceValidation(MetricSums sums) => sums.AllReduce(Group);

    public string Describe()
    {
        int threads = get_num_threads();
        return $"data-parallel: {Group.Size} processes over {Group.Backend}, {module.Options.Data.BatchSize / Group.Size} images each per step, {threads} thread{(threads == 1 ? "" : "s")} each";
    }

    public void Dispose()
    {
        bucket.Dispose();
        ProbeBucket?.Dispose();
    }
}

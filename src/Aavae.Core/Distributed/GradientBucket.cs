using Aavae.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Aavae.Distributed;

/// <summary>
/// Averages a step's gradients over the processes in one all-reduce, as DDP does with its buckets
/// (here a single bucket). At the first step the parameters' gradients move into one flat buffer
/// and each <c>p.grad</c> becomes a view of it, so later backward passes accumulate straight into
/// the buffer (the optimizer zeroes gradients in place, keeping the views). The same all-reduce
/// carries the step's metrics (averaged), a stop flag (any process asking stops all), and rank 0's
/// floating-point module buffers (BatchNorm running statistics): the others contribute zeros, so
/// the sum is rank 0's value, which is what DDP's buffer broadcast keeps.
/// </summary>
public sealed class GradientBucket(IProcessGroup group, IReadOnlyList<Parameter> parameters, IReadOnlyList<Tensor> buffers) : IDisposable
{
    /// <summary>Room for the step's metrics and the stop flag.</summary>
    public const int MetricSlots = 64;

    private Tensor? flat;
    private readonly List<Tensor> views = [];
    private List<Parameter> averaged = [];
    private long gradientCount;
    private long bufferCount;

    /// <summary>Gradients of the parameters that had one at the first step (others, unused by the loss, stay without, as in one process).</summary>
    public IReadOnlyList<Parameter> Averaged => averaged;

    /// <summary>Number of floats that cross the network each step.</summary>
    public long Floats => flat?.numel() ?? 0;

    /// <summary>Bytes that cross the network each step.</summary>
    public long Bytes => flat is null ? 0 : flat.numel() * flat.element_size();

    /// <summary>
    /// Averages the gradients and <paramref name="metrics"/> (scalar tensors, same names on every
    /// process) over the processes, copies rank 0's buffers to all, and returns whether any process
    /// asked to stop.
    /// </summary>
    public bool Average(Dictionary<string, Tensor> metrics, bool stopRequested)
    {
        if (metrics.Count >= MetricSlots) throw new ArgumentException($"at most {MetricSlots - 1} metrics cross processes, got {metrics.Count}");
        using var _ = no_grad();
        flat ??= Allocate();
        // DDP refuses a parameter that joins the loss after the first step: its gradient would not be averaged.
        if (parameters.Count(p => p.grad is not null) != averaged.Count)
            throw new InvalidOperationException($"the parameters with a gradient changed after the first step ({averaged.Count} then {parameters.Count(p => p.grad is not null)}): data-parallel training averages a fixed set");
        var names = metrics.Keys.ToArray();
        var tail = flat.narrow(0, gradientCount, MetricSlots);
        tail.zero_();
        for (int i = 0; i < names.Length; i++) tail[i].copy_(metrics[names[i]].detach().reshape([]));
        if (stopRequested) tail[MetricSlots - 1].fill_(Scalars.One);
        var shared = bufferCount == 0 ? null : flat.narrow(0, gradientCount + MetricSlots, bufferCount);
        if (shared is not null)
        {
            if (group.Rank == 0) shared.copy_(cat(buffers.Select(b => b.detach().flatten()).ToArray()));
            else shared.zero_();
        }

        group.AllReduceSum(flat);

        using var size = ((double)group.Size).ToScalar();
        flat.narrow(0, 0, gradientCount + MetricSlots).div_(size);
        for (int i = 0; i < names.Length; i++) metrics[names[i]] = tail[i].clone();
        if (shared is not null)
        {
            long at = 0;
            foreach (var b in buffers)
            {
                b.copy_(shared.narrow(0, at, b.numel()).view(b.shape));
                at += b.numel();
            }
        }
        return tail[MetricSlots - 1].to_type(ScalarType.Float64).item<double>() > 0;
    }

    private Tensor Allocate()
    {
        averaged = parameters.Where(p => p.grad is not null).ToList();
        if (averaged.Count == 0) throw new InvalidOperationException("no parameter has a gradient: call after backward");
        var first = averaged[0];
        var dtype = first.dtype;
        if (dtype is not (ScalarType.Float32 or ScalarType.Float64) || averaged.Any(p => p.dtype != dtype) || buffers.Any(b => b.dtype != dtype))
            throw new NotSupportedException("data-parallel training averages gradients and buffers of one type, float32 or float64");
        gradientCount = averaged.Sum(p => p.numel());
        bufferCount = buffers.Sum(b => b.numel());
        var buffer = zeros(gradientCount + MetricSlots + bufferCount, dtype, device: first.device).DetachFromDisposeScope();
        long at = 0;
        foreach (var p in averaged)
        {
            // The gradient keeps its parameter's memory layout (channels-last convolution weights),
            // or autograd copies each step's gradient into the view instead of accumulating in place.
            var view = (IsDense(p) ? buffer.as_strided(p.shape, p.stride(), storageOffset: at) : buffer.narrow(0, at, p.numel()).view(p.shape)).DetachFromDisposeScope();
            view.copy_(p.grad!);
            p.grad = view;
            views.Add(view);
            at += p.numel();
        }
        return buffer;
    }

    /// <summary>Whether <paramref name="t"/>'s strides are a permutation of a contiguous layout's: its elements fill its storage once, in some order.</summary>
    private static bool IsDense(Tensor t)
    {
        var order = Enumerable.Range(0, (int)t.dim()).OrderByDescending(d => t.stride(d)).ThenByDescending(d => d).ToArray();
        long expected = 1;
        for (int i = order.Length - 1; i >= 0; i--)
        {
            int d = order[i];
            if (t.shape[d] != 1 && t.stride(d) != expected) return false;
            expected *= t.shape[d];
        }
        return true;
    }

    public void Dispose()
    {
        foreach (var v in views) v.Dispose();
        flat?.Dispose();
    }
}

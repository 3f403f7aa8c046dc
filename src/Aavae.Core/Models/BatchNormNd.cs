using Aavae.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Aavae.Models;

/// <summary>
/// BatchNorm1d / BatchNorm2d as TorchSharp builds them (same parameters, buffers, names and
/// initialisation), whose training-mode forward counts <c>num_batches_tracked</c> with an explicit
/// scalar: TorchSharp's own <c>num_batches_tracked.add_(1)</c> hands libtorch two implicitly
/// converted scalars that a collection on another thread can free mid-call (see <see cref="Scalars"/>).
/// </summary>
public sealed class BatchNormNd : BatchNorm
{
    private readonly int inputDims;

    private BatchNormNd(long features, int inputDims, string name)
        : base(features, eps: 1e-5, momentum: 0.1, affine: true, track_running_stats: true, device: null, dtype: null, name)
    {
        this.inputDims = inputDims;
    }

    /// <summary>Over [N, C] feature vectors, as nn.BatchNorm1d.</summary>
    public static BatchNormNd OneD(long features) => new(features, 2, "BatchNorm1d");

    /// <summary>Over [N, C, H, W] feature maps, as nn.BatchNorm2d.</summary>
    public static BatchNormNd TwoD(long features) => new(features, 4, "BatchNorm2d");

    protected override void ValidateInputDimensions(Tensor input)
    {
        if (input.ndim != inputDims && !(inputDims == 2 && input.ndim == 3))
            throw new ArgumentException($"expected {inputDims}D input (got {input.ndim}D input)");
    }

    /// <summary>Folded into the convolution before it (<see cref="BatchNormFolding"/>): in eval mode this layer passes its input on.</summary>
    public bool FoldedIntoConvolution { get; internal set; }

    public override Tensor forward(Tensor input)
    {
        ValidateInputDimensions(input);
        // A new handle on the same storage: Sequential disposes its stages' inputs once consumed.
        if (FoldedIntoConvolution && !training) return input.alias();
        double factor = momentum ?? 0.0;
        if (training && track_running_stats && num_batches_tracked is not null)
        {
            num_batches_tracked.add_(Scalars.One, Scalars.One);
            if (momentum is null) factor = 1.0 / num_batches_tracked.item<long>();
        }
        bool useRunning = !training || track_running_stats;
        bool batchStats = training || (running_mean is null && running_var is null);
        return F.batch_norm(input, useRunning ? running_mean : null, useRunning ? running_var : null, weight, bias, batchStats, factor, eps);
    }
}

using static TorchSharp.torch;

namespace Aavae.Data;

/// <summary>A pre-training batch: the encoder's view, the reconstruction target, and labels.</summary>
public sealed record ViewBatch(Tensor X, Tensor Original, Tensor Labels) : IDisposable
{
    public void Dispose()
    {
        X.Dispose();
        Original.Dispose();
        Labels.Dispose();
    }
}

/// <summary>A labelled batch of one view, for linear evaluation and feature extraction.</summary>
public sealed record LabelledBatch(Tensor Images, Tensor Labels) : IDisposable
{
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}

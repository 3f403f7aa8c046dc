using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Data;

/// <summary>
/// A labelled set of equally sized images that hands out batches as uint8 tensors
/// [B, C, H, W] with int64 labels. Implementations keep pixels in memory, memory-map them or
/// decode files on demand; none of them normalises or augments.
/// </summary>
public interface IImageSource
{
    string Name { get; }
    int Count { get; }
    int Channels { get; }
    int Height { get; }
    int Width { get; }
    /// <summary>Labels in [0, NumClasses); -1 for unlabelled images.</summary>
    int NumClasses { get; }

    (Tensor Images, Tensor Labels) GetBatch(ReadOnlySpan<long> indices);
}

/// <summary>Images held in one uint8 tensor [N, C, H, W] on the CPU.</summary>
public sealed class TensorImageSource : IImageSource, IDisposable
{
    private readonly Tensor images;
    private readonly Tensor labels;

    public TensorImageSource(string name, Tensor images, Tensor labels, int numClasses)
    {
        if (images.dim() != 4 || images.dtype != ScalarType.Byte)
            throw new ArgumentException($"{name}: images must be a uint8 tensor [N, C, H, W]");
        if (labels.shape[0] != images.shape[0])
            throw new ArgumentException($"{name}: {images.shape[0]} images but {labels.shape[0]} labels");
        Name = name;
        this.images = images.DetachFromDisposeScope();
        this.labels = labels.to_type(ScalarType.Int64).DetachFromDisposeScope();
        NumClasses = numClasses;
    }

    public string Name { get; }
    public int Count => (int)images.shape[0];
    public int Channels => (int)images.shape[1];
    public int Height => (int)images.shape[2];
    public int Width => (int)images.shape[3];
    public int NumClasses { get; }

    /// <summary>All pixels, for statistics and tests.</summary>
    public Tensor Images => images;

    public Tensor Labels => labels;

    public (Tensor Images, Tensor Labels) GetBatch(ReadOnlySpan<long> indices)
    {
        using var idx = tensor(indices.ToArray(), dtype: ScalarType.Int64);
        return (images.index_select(0, idx), labels.index_select(0, idx));
    }

    public void Dispose()
    {
        images.Dispose();
        labels.Dispose();
    }
}

/// <summary>A view on part of another source, e.g. one side of a train/validation split.</summary>
public sealed class SubsetSource(IImageSource parent, long[] indices, string name) : IImageSource
{
    public string Name { get; } = name;
    public int Count => indices.Length;
    public int Channels => parent.Channels;
    public int Height => parent.Height;
    public int Width => parent.Width;
    public int NumClasses => parent.NumClasses;
    public IReadOnlyList<long> Indices => indices;
    public IImageSource Parent => parent;

    public (Tensor Images, Tensor Labels) GetBatch(ReadOnlySpan<long> batch)
    {
        var mapped = new long[batch.Length];
        for (int i = 0; i < batch.Length; i++) mapped[i] = indices[batch[i]];
        return parent.GetBatch(mapped);
    }
}

using static TorchSharp.torch;

namespace Aavae.Data;

/// <summary>
/// A source whose stored images differ in size and are larger than the batches it hands out (an
/// image folder): training crops must be cut from the decoded picture, as torchvision's
/// RandomResizedCrop does, not from the fixed evaluation view that <see cref="IImageSource.GetBatch"/> gives.
/// </summary>
public interface IFullImageSource
{
    /// <summary>Height and width of an image as stored.</summary>
    (int Height, int Width) SizeOf(long index);

    /// <summary>
    /// Decodes each image once: its evaluation view (as <see cref="IImageSource.GetBatch"/>) and its
    /// box cut from the full image, mirrored where flagged and resized to size x size (bilinear,
    /// antialiased as PIL resizes); uint8 [B, 3, ...] both.
    /// </summary>
    (Tensor Images, Tensor Crops, Tensor Labels) GetBatchWithCrops(ReadOnlySpan<long> indices, IReadOnlyList<CropBox> boxes, bool[] flips, int size);
}

public static class FullImages
{
    /// <summary>The full-image source behind <paramref name="source"/> (through its subsets) and the batch's indices in it; null when the images have one fixed size.</summary>
    public static (IFullImageSource Source, long[] Indices)? Find(IImageSource source, long[] indices)
    {
        while (source is SubsetSource subset)
        {
            indices = indices.Select(i => subset.Indices[(int)i]).ToArray();
            source = subset.Parent;
        }
        return source is IFullImageSource full ? (full, indices) : null;
    }
}

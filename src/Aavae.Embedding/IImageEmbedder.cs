namespace Aavae.Embedding;

/// <summary>
/// A trained encoder seen from code that only wants feature vectors of pictures: <c>ImageEncoder</c> (Aavae.Core)
/// on libtorch, or <c>OnnxImageEncoder</c> on ONNX Runtime alone. Both give a picture the evaluation
/// transform of the data set the encoder was trained on before encoding it.
/// </summary>
public interface IImageEmbedder : IDisposable
{
    /// <summary>The side of the square the encoder sees.</summary>
    int ImageSize { get; }

    /// <summary>Length of a feature vector (the encoder's pooled features, as linear evaluation uses them).</summary>
    int FeatureDim { get; }

    float[] Embed(string imageFile);

    float[] Embed(Pixels image);

    /// <summary>Feature vectors of image files, in order, <paramref name="batchSize"/> pictures at a time.</summary>
    float[][] Embed(IReadOnlyList<string> imageFiles, int batchSize = 64);

    /// <summary>Feature vectors of decoded pictures, in order.</summary>
    float[][] Embed(IReadOnlyList<Pixels> images, int batchSize = 64);
}

/// <summary>
/// What every <see cref="IImageEmbedder"/> does the same way: files are decoded, lists are cut into
/// batches and the features joined again; an encoder supplies only its batch.
/// </summary>
public abstract class ImageEmbedder : IImageEmbedder
{
    public abstract int ImageSize { get; }

    public abstract int FeatureDim { get; }

    /// <summary>Feature vectors of one batch of decoded pictures, in order.</summary>
    protected abstract float[][] EmbedBatch(IReadOnlyList<Pixels> images);

    public float[] Embed(string imageFile) => Embed([Pixels.Read(imageFile)])[0];

    public float[] Embed(Pixels image) => Embed([image])[0];

    public float[][] Embed(IReadOnlyList<string> imageFiles, int batchSize = 64) =>
        InBatches(imageFiles.Count, batchSize, (start, n) => EmbedBatch(Enumerable.Range(start, n).Select(i => Pixels.Read(imageFiles[i])).ToList()));

    public float[][] Embed(IReadOnlyList<Pixels> images, int batchSize = 64) =>
        InBatches(images.Count, batchSize, (start, n) => EmbedBatch(Enumerable.Range(start, n).Select(i => images[i]).ToList()));

    public abstract void Dispose();

    private static float[][] InBatches(int count, int batchSize, Func<int, int, float[][]> embed)
    {
        if (batchSize < 1) throw new ArgumentException($"batch size must be >= 1, got {batchSize}");
        var result = new List<float[]>(count);
        for (int start = 0; start < count; start += batchSize) result.AddRange(embed(start, Math.Min(batchSize, count - start)));
        return [.. result];
    }
}

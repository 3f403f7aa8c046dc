using System.IO.MemoryMappedFiles;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Data;

/// <summary>
/// STL-10's binary distribution (<c>stl10_binary/</c>): <c>*_X.bin</c> hold 96x96x3 images, each
/// channel stored column-major; <c>*_y.bin</c> hold labels 1-10. The 100,000 unlabelled images
/// (2.7 GB) are memory-mapped and copied out one batch at a time.
/// </summary>
public sealed class Stl10Source : IImageSource, IDisposable
{
    public const int Side = 96;
    public const int ImageBytes = 3 * Side * Side;
    public const int UnlabeledValCount = 5_000;
    public const int LabeledValCount = 500;

    private readonly MemoryMappedFile map;
    private readonly MemoryMappedViewAccessor view;
    private readonly long[]? labels;

    private Stl10Source(string name, string imagesPath, long[]? labels)
    {
        Name = name;
        long length = new FileInfo(imagesPath).Length;
        if (length == 0 || length % ImageBytes != 0)
            throw new InvalidDataException($"{imagesPath}: {length} bytes is not a whole number of 96x96x3 images ({ImageBytes} bytes each)");
        Count = (int)(length / ImageBytes);
        if (labels is not null && labels.Length != Count)
            throw new InvalidDataException($"{imagesPath}: {Count} images but {labels.Length} labels");
        map = MemoryMappedFile.CreateFromFile(imagesPath, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        this.labels = labels;
    }

    /// <param name="split">train, test or unlabeled.</param>
    public static Stl10Source Open(string dataDir, string split)
    {
        var dir = Directory.Exists(Path.Combine(dataDir, "stl10_binary")) ? Path.Combine(dataDir, "stl10_binary") : dataDir;
        var images = Path.Combine(dir, $"{split}_X.bin");
        if (!File.Exists(images))
            throw new FileNotFoundException($"{images}: file not found (STL-10 binary distribution; `aavae download stl10` fetches it)", images);
        long[]? labels = null;
        if (split != "unlabeled")
        {
            var labelPath = Path.Combine(dir, $"{split}_y.bin");
            if (!File.Exists(labelPath)) throw new FileNotFoundException($"{labelPath}: file not found", labelPath);
            var raw = File.ReadAllBytes(labelPath);
            labels = new long[raw.Length];
            for (int i = 0; i < raw.Length; i++)
                labels[i] = raw[i] is >= 1 and <= 10 ? raw[i] - 1
                    : throw new InvalidDataException($"{labelPath}: label {raw[i]} at index {i} is out of range 1-10");
        }
        return new Stl10Source($"stl10/{split}", images, labels);
    }

    public string Name { get; }
    public int Count { get; }
    public int Channels => 3;
    public int Height => Side;
    public int Width => Side;
    public int NumClasses => labels is null ? 0 : 10;

    public (Tensor Images, Tensor Labels) GetBatch(ReadOnlySpan<long> indices)
    {
        var buffer = new byte[indices.Length * ImageBytes];
        var y = new long[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            long index = indices[i];
            if (index < 0 || index >= Count) throw new ArgumentOutOfRangeException(nameof(indices), $"{Name}: index {index} outside 0..{Count - 1}");
            view.ReadArray(index * ImageBytes, buffer, i * ImageBytes, ImageBytes);
            y[i] = labels?[index] ?? -1;
        }
        using var scope = NewDisposeScope();
        // Stored as [C, W, H] (column-major per channel): swap to [C, H, W].
        var images = tensor(buffer, [indices.Length, 3, Side, Side], ScalarType.Byte).transpose(2, 3).contiguous();
        return (images.MoveToOuterDisposeScope(), tensor(y).MoveToOuterDisposeScope());
    }

    public void Dispose()
    {
        view.Dispose();
        map.Dispose();
    }
}

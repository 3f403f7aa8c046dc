using System.Collections;
using System.Formats.Tar;
using System.IO.Compression;
using Razorvine.Pickle;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Data;

/// <summary>
/// CIFAR-10 from either published distribution: the binary one (<c>data_batch_1.bin</c>: records of
/// one label byte and 3072 pixel bytes, channel-major) or the Python one (pickled dicts with
/// <c>data</c> and <c>labels</c>), each read from its .tar.gz archive or its unpacked folder.
/// </summary>
public static class Cifar10
{
    public const int TrainCount = 50_000;
    public const int TestCount = 10_000;
    public const int ValCount = 5_000;
    private const int ImageBytes = 3 * 32 * 32;
    private const int BatchCount = 10_000;

    /// <param name="path">A data folder, an unpacked <c>cifar-10-batches-bin</c> / <c>cifar-10-batches-py</c>
    /// folder, or one of the archives.</param>
    public static TensorImageSource Load(string path, bool train)
    {
        var files = Locate(path);
        string[] batches = train ? Enumerable.Range(1, 5).Select(i => $"data_batch_{i}").ToArray() : ["test_batch"];
        var pixels = new byte[batches.Length * BatchCount * ImageBytes];
        var labels = new byte[batches.Length * BatchCount];
        for (int b = 0; b < batches.Length; b++)
        {
            var (bytes, name) = files.Get(batches[b]);
            if (files.Binary) ParseBinary(bytes, name, pixels.AsSpan(b * BatchCount * ImageBytes), labels.AsSpan(b * BatchCount));
            else ParsePickle(bytes, name, pixels.AsSpan(b * BatchCount * ImageBytes), labels.AsSpan(b * BatchCount));
        }
        using var scope = NewDisposeScope();
        int n = labels.Length;
        return new TensorImageSource(train ? "cifar10/train" : "cifar10/test",
            tensor(pixels, [n, 3, 32, 32], ScalarType.Byte), tensor(labels, [n], ScalarType.Byte), 10);
    }

    private static void ParseBinary(byte[] bytes, string name, Span<byte> pixels, Span<byte> labels)
    {
        if (bytes.Length != BatchCount * (ImageBytes + 1))
            throw new InvalidDataException($"{name}: {bytes.Length} bytes, expected {BatchCount * (ImageBytes + 1)} (10,000 records of 1 + 3072 bytes)");
        for (int i = 0; i < BatchCount; i++)
        {
            int offset = i * (ImageBytes + 1);
            labels[i] = CheckLabel(bytes[offset], name, i);
            bytes.AsSpan(offset + 1, ImageBytes).CopyTo(pixels.Slice(i * ImageBytes));
        }
    }

    private static void ParsePickle(byte[] bytes, string name, Span<byte> pixels, Span<byte> labels)
    {
        object loaded;
        try
        {
            loaded = NumpyPickle.Load(bytes);
        }
        catch (Exception e)
        {
            // The unpickler follows the bytes wherever they point: anything it throws means the batch is damaged.
            throw new InvalidDataException($"{name}: not a readable CIFAR-10 Python batch ({e.Message})", e);
        }
        if (loaded is not IDictionary dict || dict["data"] is not NumpyPickle.NdArray data || dict["labels"] is not IList list)
            throw new InvalidDataException($"{name}: expected a dict with 'data' (uint8 array) and 'labels'");
        if (data.DType != "u1" || data.Shape.Length != 2 || data.Shape[0] != BatchCount || data.Shape[1] != ImageBytes)
            throw new InvalidDataException($"{name}: 'data' is {data.DType} [{string.Join(", ", data.Shape)}], expected u1 [10000, 3072]");
        if (data.Data.Length != BatchCount * ImageBytes)
            throw new InvalidDataException($"{name}: 'data' says u1 [10000, 3072] but holds {data.Data.Length} bytes, not {BatchCount * ImageBytes}");
        if (list.Count != BatchCount) throw new InvalidDataException($"{name}: {list.Count} labels, expected {BatchCount}");
        data.Data.CopyTo(pixels);
        for (int i = 0; i < BatchCount; i++)
            labels[i] = list[i] switch
            {
                int v => CheckLabel(v, name, i),
                long v => CheckLabel(v is >= int.MinValue and <= int.MaxValue ? (int)v : -1, name, i),
                var other => throw new InvalidDataException($"{name}: label of record {i} is {other?.GetType().Name ?? "None"} '{other}', expected an integer 0-9"),
            };
    }

    private static byte CheckLabel(int label, string name, int index) =>
        label is >= 0 and <= 9 ? (byte)label
            : throw new InvalidDataException($"{name}: label {label} of record {index} is out of range 0-9");

    private sealed record BatchFiles(bool Binary, Func<string, (byte[] Bytes, string Name)> Get);

    private static BatchFiles Locate(string path)
    {
        if (File.Exists(path)) return FromArchive(path);
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"{path}: CIFAR-10 folder or archive not found");
        foreach (var (folder, binary) in new[] { ("cifar-10-batches-bin", true), ("cifar-10-batches-py", false), (".", true), (".", false) })
        {
            var dir = Path.Combine(path, folder);
            var probe = Path.Combine(dir, binary ? "data_batch_1.bin" : "data_batch_1");
            if (File.Exists(probe)) return new BatchFiles(binary, stem => ReadFile(dir, binary ? stem + ".bin" : stem));
        }
        foreach (var archive in new[] { "cifar-10-binary.tar.gz", "cifar-10-python.tar.gz" })
            if (File.Exists(Path.Combine(path, archive))) return FromArchive(Path.Combine(path, archive));
        throw new FileNotFoundException(
            $"{path}: no CIFAR-10 found (expected cifar-10-batches-bin/, cifar-10-batches-py/, cifar-10-binary.tar.gz or cifar-10-python.tar.gz; `aavae download cifar10` fetches it)");
    }

    private static (byte[], string) ReadFile(string dir, string name)
    {
        var file = Path.Combine(dir, name);
        if (!File.Exists(file)) throw new FileNotFoundException($"{file}: file not found", file);
        return (File.ReadAllBytes(file), file);
    }

    /// <summary>The batch files of both distributions: data_batch_1-5 and test_batch, with ".bin" in the binary one.</summary>
    private static readonly HashSet<string> BatchNames =
        [.. Enumerable.Range(1, 5).Select(i => $"data_batch_{i}").Append("test_batch").SelectMany(n => new[] { n, n + ".bin" })];

    /// <summary>A binary batch is 30,730,000 bytes (10,000 records of 3,073), a pickled one about 31.0 MB.</summary>
    private const long MaxBatchBytes = 32 << 20;

    private static BatchFiles FromArchive(string archive)
    {
        var entries = new Dictionary<string, byte[]>();
        try
        {
            using var gz = new GZipStream(File.OpenRead(archive), CompressionMode.Decompress);
            using var tar = new TarReader(gz);
            while (tar.GetNextEntry() is { } entry)
            {
                var name = Path.GetFileName(entry.Name);
                // Only the batches are read, each no larger than a batch can be: the tar header's size is the archive's word, not a fact.
                if (entry.DataStream is null || !BatchNames.Contains(name)) continue;
                if (entry.Length > MaxBatchBytes)
                    throw new InvalidDataException($"{archive}: {entry.Name} declares {entry.Length:N0} bytes, more than a CIFAR-10 batch ({MaxBatchBytes:N0} at most)");
                var bytes = new byte[entry.Length];
                entry.DataStream.ReadExactly(bytes);
                entries[name] = bytes;
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new InvalidDataException($"{archive}: not a readable .tar.gz archive ({e.Message})", e);
        }
        bool binary = entries.ContainsKey("data_batch_1.bin");
        if (!binary && !entries.ContainsKey("data_batch_1"))
            throw new InvalidDataException($"{archive}: holds no CIFAR-10 batches (data_batch_1.bin or data_batch_1)");
        return new BatchFiles(binary, stem =>
        {
            var name = binary ? stem + ".bin" : stem;
            return entries.TryGetValue(name, out var bytes) ? (bytes, $"{archive}:{name}")
                : throw new InvalidDataException($"{archive}: {name} is missing from the archive");
        });
    }
}

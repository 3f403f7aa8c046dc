using System.Collections;
using Aavae.Checkpoints;
using Aavae.Configuration;
using Aavae.Data;
using Aavae.Fuzz;
using Aavae.IO;
using Aavae.Training;
using CsCheck;
using static TorchSharp.torch;
using Aavae.Embedding;

namespace Aavae.Tests.IO;

/// <summary>
/// Every reader of a file a user hands the project, fed valid seeds mutated (bits flipped, bytes set,
/// little- and big-endian integers overwritten with edge values, runs deleted, inserted, cut off):
/// each input is either read or refused with one printable line that names the file, within 5 s.
/// Any other exception (an index out of range, an overflow, an allocation the header asked for)
/// fails, and CsCheck shrinks it to the smallest mutation list and prints the seed to replay it.
/// The counts are the suite's; a longer campaign raises them (AAVAE_FUZZ_SCALE=10 for ten times).
/// </summary>
[Trait(Category.Name, Category.Slow)]
public class ReaderFuzzTests
{
    private static readonly long Scale = long.TryParse(Environment.GetEnvironmentVariable("AAVAE_FUZZ_SCALE"), out var s) && s > 0 ? s : 1;

    private static readonly int[] EdgeValues = [0, 1, -1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x10000, 0x7FFFFFFF, int.MinValue, 1 << 30, 10_000];

    /// <summary>Kind (0-6), where, a value, a run length.</summary>
    private static readonly Gen<(int Kind, int Position, int Value, int Length)[]> Mutations =
        Gen.Select(Gen.Int[0, 6], Gen.Int[0, int.MaxValue], Gen.Int, Gen.Int[1, 64]).Array[1, 6];

    private static byte[] Mutate(byte[] seed, (int Kind, int Position, int Value, int Length)[] mutations)
    {
        var b = new List<byte>(seed);
        foreach (var (kind, position, value, length) in mutations)
        {
            int at = b.Count == 0 ? 0 : position % b.Count;
            int edge = EdgeValues[(uint)value % EdgeValues.Length];
            switch (kind)
            {
                case 0 when b.Count > 0: b[at] ^= (byte)(1 << (value & 7)); break;
                case 1 when b.Count > 0: b[at] = (byte)value; break;
                case 2: for (int i = 0; i < 4 && at + i < b.Count; i++) b[at + i] = (byte)(edge >> (8 * i)); break;
                case 3: for (int i = 0; i < 4 && at + i < b.Count; i++) b[at + i] = (byte)(edge >> (8 * (3 - i))); break;
                case 4: b.RemoveRange(at, Math.Min(length, b.Count - at)); break;
                case 5: b.InsertRange(at, Enumerable.Repeat((byte)value, length)); break;
                case 6: b.RemoveRange(at, b.Count - at); break;
            }
        }
        return b.ToArray();
    }

    /// <summary>Writes each mutant to a file named <c>fuzz-N{extension}</c> and hands it to <paramref name="read"/>.</summary>
    private static void Fuzz(byte[] seed, string extension, long iterations, Action<string> read)
    {
        var dir = TempDir.Create();
        long n = 0;
        Mutations.Sample(mutations =>
        {
            var path = Path.Combine(dir, $"fuzz-{Interlocked.Increment(ref n)}{extension}");
            File.WriteAllBytes(path, Mutate(seed, mutations));
            try
            {
                ReadOrRefuse(path, read);
            }
            finally
            {
                File.Delete(path);
            }
        }, iter: iterations * Scale, threads: 1);
    }

    private static void ReadOrRefuse(string path, Action<string> read)
    {
        var task = Task.Run(() => read(path));
        try
        {
            if (!task.Wait(TimeSpan.FromSeconds(5))) throw new TimeoutException($"{path}: the reader took over 5 s");
        }
        catch (AggregateException a) when (a.InnerException is { } e && ReaderTargets.IsProperRefusal(e, path, out _))
        {
        }
    }

    /// <summary>The readers and seeds the long campaign (tests/Aavae.Fuzz) also feeds.</summary>
    [Theory]
    [InlineData("npy", 3000)]
    [InlineData("idx", 3000)]
    [InlineData("metrics-csv", 3000)]
    [InlineData("config-json", 3000)]
    [InlineData("png", 1500)]
    [InlineData("jpeg", 1500)]
    [InlineData("webp", 1500)]
    [InlineData("bmp", 1500)]
    [InlineData("gif", 1000)]
    [InlineData("torch-zip", 1000)]
    [InlineData("safetensors", 1500)]
    [InlineData("cifar10-python", 800)]
    public void Reader(string name, int inputs)
    {
        var target = ReaderTargets.Get(name);
        Fuzz(Seed(target.WriteSeed, target.Extension), target.Extension, inputs, target.Read);
    }

    [Fact]
    public void CheckpointsOfEveryKind()
    {
        // This project's checkpoint of a tiny run (zip, pickle, config.json inside), read as weights and as a run to continue.
        var seed = File.ReadAllBytes(new TinyRun().Checkpoint);
        Fuzz(seed, ".ckpt", 150, p => PretrainedWeights.Read(p).Dispose());
        Fuzz(seed, ".ckpt", 150, p => TrainingCheckpoint.Read(p));
    }

    [Fact]
    public void Cifar10BinaryArchive()
    {
        // cifar-10-binary.tar.gz cut to its test batch (10,000 records of black pictures, label 3): the
        // gzip stream, the tar headers and the records' label bytes all go through the mutations.
        var records = new byte[10_000 * 3073];
        for (int i = 0; i < 10_000; i++) records[i * 3073] = 3;
        var seed = Seed(p =>
        {
            using var file = File.Create(p);
            using var gz = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.SmallestSize);
            using var tar = new System.Formats.Tar.TarWriter(gz);
            foreach (var name in new[] { "data_batch_1.bin", "test_batch.bin" })
                tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, $"cifar-10-batches-bin/{name}") { DataStream = new MemoryStream(records) });
        }, ".tar.gz");
        Fuzz(seed, ".tar.gz", 300, p => { using var _ = Cifar10.Load(p, train: false); });
    }

    [Fact]
    public void Stl10Binary()
    {
        // Two 96x96x3 pictures and their labels; the images and the labels file mutated in turn, read as the train split.
        var images = Enumerable.Range(0, 2 * Stl10Source.ImageBytes).Select(i => (byte)(i * 13)).ToArray();
        byte[] labels = [4, 10];
        void Read(string p, bool mutatedImages)
        {
            var folder = Directory.CreateDirectory(Path.Combine(Path.GetDirectoryName(p)!, "sets", Path.GetFileName(p), "stl10_binary")).FullName;
            try
            {
                File.WriteAllBytes(Path.Combine(folder, "train_X.bin"), mutatedImages ? File.ReadAllBytes(p) : images);
                File.WriteAllBytes(Path.Combine(folder, "train_y.bin"), mutatedImages ? labels : File.ReadAllBytes(p));
                using var source = Stl10Source.Open(Path.GetDirectoryName(folder)!, "train");
                var (x, y) = source.GetBatch(Enumerable.Range(0, source.Count).Select(i => (long)i).ToArray());
                x.Dispose();
                y.Dispose();
            }
            finally
            {
                Directory.Delete(Path.GetDirectoryName(folder)!, recursive: true);
            }
        }
        Fuzz(images, ".bin", 500, p => Read(p, mutatedImages: true));
        Fuzz(labels, ".bin", 500, p => Read(p, mutatedImages: false));
    }

    [Fact]
    public void ImageFolderPictures()
    {
        // The folder reader's own paths: picture sizes from the headers, evaluation views and training crops from the full picture.
        var pixels = new Pixels(12, 10, 3, Enumerable.Range(0, 12 * 10 * 3).Select(i => (byte)(i * 3)).ToArray());
        foreach (var (extension, seed) in new[] { (".png", Seed(p => pixels.SavePng(p))), (".jpg", ReaderTargets.Jpeg(pixels)) })
            Fuzz(seed, extension, 400, p =>
            {
                var root = Path.Combine(Path.GetDirectoryName(p)!, Path.GetFileNameWithoutExtension(p));
                var folder = Directory.CreateDirectory(Path.Combine(root, "class-a")).FullName;
                try
                {
                    File.Copy(p, Path.Combine(folder, Path.GetFileName(p)));
                    var source = new ImageFolderSource(root, 8);
                    var (h, w) = source.SizeOf(0);
                    var (images, crops, y) = source.GetBatchWithCrops([0], [new CropBox(0, 0, Math.Max(1, h / 2), Math.Max(1, w / 2))], [true], 8);
                    images.Dispose();
                    crops.Dispose();
                    y.Dispose();
                }
                finally
                {
                    Directory.Delete(root, recursive: true);
                }
            });
    }

    [RequiresFact(Need.PyTorch)]
    public void LightningCheckpoints()
    {
        // What the reference's vae.py saves (Lightning 1.3: ModelCheckpoint, AttributeDict, Adam state, LambdaLR), written by PyTorch.
        var path = Path.Combine(TempDir.Create(), "reference.ckpt");
        ReferenceFixtures.RunPython("run", path, "False");
        var seed = File.ReadAllBytes(path);
        Fuzz(seed, ".ckpt", 150, p => PretrainedWeights.Read(p).Dispose());
        Fuzz(seed, ".ckpt", 150, p => TrainingCheckpoint.Read(p));
    }

    private static byte[] Seed(Action<string> write, string extension = ".bin")
    {
        var path = Path.Combine(TempDir.Create(), "seed" + extension);
        write(path);
        return File.ReadAllBytes(path);
    }
}

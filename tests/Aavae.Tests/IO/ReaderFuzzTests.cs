using System.Collections;
using Aavae.Checkpoints;
using Aavae.Configuration;
using Aavae.Data;
using Aavae.IO;
using Aavae.Training;
using CsCheck;
using static TorchSharp.torch;

namespace Aavae.Tests.IO;

/// <summary>
/// Every reader of a file a user hands the project, fed valid seeds mutated (bits flipped, bytes set,
/// little- and big-endian integers overwritten with edge values, runs deleted, inserted, cut off):
/// each input is either read or refused with one printable line that names the file, within 5 s.
/// Any other exception (an index out of range, an overflow, an allocation the header asked for)
/// fails, and CsCheck shrinks it to the smallest mutation list and prints the seed to replay it.
/// The counts are the suite's; a longer campaign raises them (AAVAE_FUZZ_SCALE=10 for ten times).
/// </summary>
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
        catch (AggregateException a) when (a.InnerException is InvalidDataException or FileNotFoundException or OptionException)
        {
            // What the command line prints: the message made printable, on one line.
            var line = PrintableText.Of(a.InnerException.Message, 1000);
            Assert.Contains(Path.GetFileName(path), line);
            Assert.True(line.Length < 1000, line);
        }
    }

    [Fact]
    public void NpyArrays() =>
        Fuzz(Seed(p => Npy.Write(p, Enumerable.Range(0, 96).Select(i => i * 0.5f).ToArray(), [2, 3, 4, 4])), ".npy", 3000, p => Npy.ReadFloat32(p));

    [Fact]
    public void Idx()
    {
        var seed = new List<byte> { 0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 28, 0, 0, 0, 28 };
        seed.AddRange(Enumerable.Range(0, 4 * 28 * 28).Select(i => (byte)(i * 7)));
        Fuzz(seed.ToArray(), ".idx", 3000, p => IdxFile.Read(p, 3));
    }

    [Fact]
    public void MetricsCsv() =>
        Fuzz("epoch,step,train_loss,val_loss,knn_acc\n0,100,3450.4,3288.4,\n1,200,3204.5,3180.3,0.7814\n"u8.ToArray(), ".csv", 3000, p => MetricsLog.ReadCsv(p));

    [Fact]
    public void PngAndJpegPictures()
    {
        var pixels = new Pixels(8, 8, 3, Enumerable.Range(0, 8 * 8 * 3).Select(i => (byte)(i * 5)).ToArray());
        Fuzz(Seed(p => pixels.SavePng(p)), ".png", 1500, p => Pixels.Read(p));
        Fuzz(Seed(p => File.WriteAllBytes(p, Jpeg(pixels))), ".jpg", 1500, p => Pixels.Read(p));
    }

    [Fact]
    public void TorchZipAndPickle()
    {
        var seed = Seed(p => TorchFile.Write(p, new Hashtable
        {
            ["state_dict"] = new Hashtable { ["encoder.conv1.weight"] = arange(24, dtype: ScalarType.Float32).reshape(2, 3, 2, 2) },
            ["epoch"] = 3L,
            ["hyper_parameters"] = new Hashtable { ["maxpool1"] = false, ["lr"] = 0.1 },
        }));
        Fuzz(seed, ".ckpt", 1000, p => TorchFile.Read(p));
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
    public void SafetensorsFiles()
    {
        var seed = Seed(p =>
        {
            using var a = arange(24, dtype: ScalarType.Float32).reshape(2, 3, 2, 2);
            using var b = ones(3);
            AtomicFile.Write(p, s => TorchSharp.PyBridge.Safetensors.SaveStateDict(s, new Dictionary<string, Tensor> { ["encoder.conv1.weight"] = a, ["encoder.bn1.weight"] = b }, leaveOpen: true));
        }, ".safetensors");
        Fuzz(seed, ".safetensors", 1500, p => PretrainedWeights.Read(p).Dispose());
    }

    [Fact]
    public void RunConfiguration()
    {
        var seed = System.Text.Encoding.UTF8.GetBytes(new PretrainOptions().ToJson());
        Fuzz(seed, ".json", 3000, p => PretrainOptions.Read(p));
    }

    [Fact]
    public void Cifar10PythonBatch()
    {
        // The pickle of a CIFAR-10 Python batch, cut to its header and labels' shape: the reader
        // refuses its size, but first it must get through the pickle without aborting.
        var dir = TempDir.Create();
        Fuzz(Cifar10Pickle(), "", 800, p =>
        {
            var folder = Path.Combine(dir, Path.GetFileName(p));
            Directory.CreateDirectory(folder);
            try
            {
                File.Copy(p, Path.Combine(folder, "test_batch"));
                File.Copy(p, Path.Combine(folder, "data_batch_1"));
                using var _ = Cifar10.Load(folder, train: false);
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        });
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
        foreach (var (extension, seed) in new[] { (".png", Seed(p => pixels.SavePng(p))), (".jpg", Jpeg(pixels)) })
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
        Interop.ReferenceFixtures.RunPython("run", path, "False");
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

    private static byte[] Jpeg(Pixels p)
    {
        using var s = new MemoryStream();
        new StbImageWriteSharp.ImageWriter().WriteJpg(p.Data, p.Width, p.Height, StbImageWriteSharp.ColorComponents.RedGreenBlue, s, 90);
        return s.ToArray();
    }

    /// <summary>A protocol-2 pickle of {'data': uint8 array [2, 3072] (numpy's _reconstruct), 'labels': [3, 7]}.</summary>
    private static byte[] Cifar10Pickle()
    {
        var p = new MemoryStream();
        void Op(params byte[] b) => p.Write(b);
        void Str(string s) { var b = System.Text.Encoding.Latin1.GetBytes(s); Op(0x55, (byte)b.Length); p.Write(b); }
        void Int(int v) { Op(0x4a); p.Write(BitConverter.GetBytes(v)); }
        void Global(string module, string name) { Op(0x63); p.Write(System.Text.Encoding.ASCII.GetBytes($"{module}\n{name}\n")); }
        Op(0x80, 2); Op(0x7d); Op(0x28);
        Str("data");
        Global("numpy.core.multiarray", "_reconstruct"); Global("numpy", "ndarray");
        Int(0); Op(0x85); Str("b"); Op(0x87); Op(0x52);
        Op(0x28); Int(1); Int(2); Int(3072); Op(0x86);
        Global("numpy", "dtype"); Str("u1"); Int(0); Int(1); Op(0x87); Op(0x52);
        Op(0x28); Int(3); Str("|"); Op(0x4e, 0x4e, 0x4e); Int(-1); Int(-1); Int(0); Op(0x74); Op(0x62);
        Op(0x89);
        Op(0x54); p.Write(BitConverter.GetBytes(2 * 3072)); p.Write(new byte[2 * 3072]);
        Op(0x74); Op(0x62);
        Str("labels"); Op(0x5d, 0x28); Int(3); Int(7); Op(0x65);
        Op(0x75); Op(0x2e);
        return p.ToArray();
    }
}

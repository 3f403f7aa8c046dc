using System.Collections;
using Aavae.Checkpoints;
using Aavae.Configuration;
using Aavae.Data;
using Aavae.IO;
using Aavae.Training;
using static TorchSharp.torch;
using Aavae.Embedding;
using Aavae.Runs;
using Aavae.Options;

namespace Aavae.Fuzz;

/// <summary>A reader of files users hand the project, and a valid file of its kind to mutate from.</summary>
/// <param name="Extension">What the mutated file is named with, as the reader expects it.</param>
public sealed record ReaderTarget(string Name, string Extension, Action<string> WriteSeed, Action<string> Read);

/// <summary>
/// The readers both fuzzing campaigns feed (the test suite's, with CsCheck's mutations; the long one,
/// with afl++'s), each with a seed it must read, and the rule every input is judged by: it is read,
/// or refused with one printable line that names the file.
/// </summary>
public static class ReaderTargets
{
    public static readonly Pixels SeedPicture = new(8, 8, 3, Enumerable.Range(0, 8 * 8 * 3).Select(i => (byte)(i * 5)).ToArray());

    public static readonly IReadOnlyList<ReaderTarget> All =
    [
        new("npy", ".npy", p => Npy.Write(p, Enumerable.Range(0, 96).Select(i => i * 0.5f).ToArray(), [2, 3, 4, 4]), p => Npy.ReadFloat32(p)),
        new("idx", ".idx", p => File.WriteAllBytes(p, IdxSeed()), p => IdxFile.Read(p, 3)),
        new("metrics-csv", ".csv", p => File.WriteAllText(p, "epoch,step,train_loss,val_loss,knn_acc\n0,100,3450.4,3288.4,\n1,200,3204.5,3180.3,0.7814\n"), p => MetricsLog.ReadCsv(p)),
        new("config-json", ".json", p => File.WriteAllText(p, new PretrainOptions().ToJson()), p => PretrainOptions.Read(p)),
        new("png", ".png", p => SeedPicture.SavePng(p), p => Pixels.Read(p)),
        new("jpeg", ".jpg", p => File.WriteAllBytes(p, Jpeg(SeedPicture)), p => Pixels.Read(p)),
        new("webp", ".webp", p => File.WriteAllBytes(p, WebP(SeedPicture)), p => Pixels.Read(p)),
        new("bmp", ".bmp", p => File.WriteAllBytes(p, Bmp(SeedPicture)), p => Pixels.Read(p)),
        new("gif", ".gif", p => File.WriteAllBytes(p, Gif()), p => Pixels.Read(p)),
        new("torch-zip", ".ckpt", WriteTorchSeed, p => TorchFile.Read(p)),
        new("safetensors", ".safetensors", WriteSafetensorsSeed, p => PretrainedWeights.Read(p).Dispose()),
        new("cifar10-python", "", p => File.WriteAllBytes(p, Cifar10Pickle()), ReadCifar10Batch),
    ];

    public static ReaderTarget Get(string name) =>
        All.FirstOrDefault(t => t.Name == name) ?? throw new ArgumentException($"no reader target '{name}' (known: {string.Join(", ", All.Select(t => t.Name))})");

    /// <summary>Whether <paramref name="e"/> is a refusal as the command line prints it: one printable line under 1,000 characters naming <paramref name="path"/>'s file.</summary>
    public static bool IsProperRefusal(Exception e, string path, out string line)
    {
        line = PrintableText.Of(e.Message, 1000);
        return e is InvalidDataException or FileNotFoundException or OptionException
            && line.Contains(Path.GetFileName(path), StringComparison.Ordinal) && line.Length < 1000;
    }

    public static byte[] Jpeg(Pixels p)
    {
        using var s = new MemoryStream();
        new StbImageWriteSharp.ImageWriter().WriteJpg(p.Data, p.Width, p.Height, StbImageWriteSharp.ColorComponents.RedGreenBlue, s, 90);
        return s.ToArray();
    }

    /// <summary>The picture as lossy WebP, encoded by Skia.</summary>
    public static byte[] WebP(Pixels p)
    {
        using var bitmap = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(p.Width, p.Height, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Opaque));
        for (int y = 0; y < p.Height; y++)
            for (int x = 0; x < p.Width; x++)
            {
                int i = (y * p.Width + x) * 3;
                bitmap.SetPixel(x, y, new SkiaSharp.SKColor(p.Data[i], p.Data[i + 1], p.Data[i + 2]));
            }
        using var image = SkiaSharp.SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SkiaSharp.SKEncodedImageFormat.Webp, 80);
        return data.ToArray();
    }

    /// <summary>The picture as a 24-bit BMP: file and info headers, then rows bottom up in BGR, each padded to 4 bytes.</summary>
    public static byte[] Bmp(Pixels p)
    {
        int row = (p.Width * 3 + 3) / 4 * 4, size = 54 + row * p.Height;
        var b = new byte[size];
        void Int(int at, int v) => BitConverter.TryWriteBytes(b.AsSpan(at), v);
        b[0] = (byte)'B';
        b[1] = (byte)'M';
        Int(2, size);
        Int(10, 54);
        Int(14, 40);
        Int(18, p.Width);
        Int(22, p.Height);
        b[26] = 1;
        b[28] = 24;
        Int(34, row * p.Height);
        for (int y = 0; y < p.Height; y++)
            for (int x = 0; x < p.Width; x++)
            {
                int from = ((p.Height - 1 - y) * p.Width + x) * 3, to = 54 + y * row + x * 3;
                (b[to], b[to + 1], b[to + 2]) = (p.Data[from + 2], p.Data[from + 1], p.Data[from]);
            }
        return b;
    }

    /// <summary>A 1 x 1 GIF89a: a two-colour table and one LZW-coded pixel.</summary>
    public static byte[] Gif() =>
    [
        .."GIF89a"u8, 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF,
        0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3B,
    ];

    private static byte[] IdxSeed()
    {
        var seed = new List<byte> { 0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 28, 0, 0, 0, 28 };
        seed.AddRange(Enumerable.Range(0, 4 * 28 * 28).Select(i => (byte)(i * 7)));
        return [.. seed];
    }

    private static void WriteTorchSeed(string path) => TorchFile.Write(path, new Hashtable
    {
        ["state_dict"] = new Hashtable { ["encoder.conv1.weight"] = arange(24, dtype: ScalarType.Float32).reshape(2, 3, 2, 2) },
        ["epoch"] = 3L,
        ["hyper_parameters"] = new Hashtable { ["maxpool1"] = false, ["lr"] = 0.1 },
    });

    private static void WriteSafetensorsSeed(string path)
    {
        using var a = arange(24, dtype: ScalarType.Float32).reshape(2, 3, 2, 2);
        using var b = ones(3);
        AtomicFile.Write(path, s => TorchSharp.PyBridge.Safetensors.SaveStateDict(s, new Dictionary<string, Tensor> { ["encoder.conv1.weight"] = a, ["encoder.bn1.weight"] = b }, leaveOpen: true));
    }

    /// <summary>Reads the file as a CIFAR-10 Python test batch: it goes in a folder named after it, as <c>test_batch</c>.</summary>
    private static void ReadCifar10Batch(string path)
    {
        var folder = Path.Combine(Path.GetDirectoryName(path)!, "sets", Path.GetFileName(path));
        Directory.CreateDirectory(folder);
        try
        {
            File.Copy(path, Path.Combine(folder, "test_batch"));
            File.Copy(path, Path.Combine(folder, "data_batch_1"));
            using var _ = Cifar10.Load(folder, train: false);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>A protocol-2 pickle of {'data': uint8 array [2, 3072] (numpy's _reconstruct), 'labels': [3, 7]}: the
    /// reader refuses its size, but first it must get through the pickle without aborting.</summary>
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

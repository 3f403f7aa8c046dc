using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Aavae.Data;
using TorchSharp;
using static TorchSharp.torch;
using Aavae.Embedding;

namespace Aavae.Tests.Data;

/// <summary>CIFAR-10 test batches written by the test in both published formats.</summary>
public class Cifar10Tests
{
    const int N = 10_000, ImageBytes = 3072;

    // Image i: every byte of channel c is (i + 7c) mod 256; label i mod 10.
    static byte Pixel(int i, int c) => (byte)((i + 7 * c) % 256);

    static byte[] Pixels()
    {
        var data = new byte[N * ImageBytes];
        for (int i = 0; i < N; i++)
            for (int c = 0; c < 3; c++)
                Array.Fill(data, Pixel(i, c), i * ImageBytes + c * 1024, 1024);
        return data;
    }

    static byte[] BinaryBatch(Func<int, byte>? label = null)
    {
        var pixels = Pixels();
        var bytes = new byte[N * (ImageBytes + 1)];
        for (int i = 0; i < N; i++)
        {
            bytes[i * (ImageBytes + 1)] = label?.Invoke(i) ?? (byte)(i % 10);
            Array.Copy(pixels, i * ImageBytes, bytes, i * (ImageBytes + 1) + 1, ImageBytes);
        }
        return bytes;
    }

    static void AssertContent(TensorImageSource test)
    {
        Assert.Equal(N, test.Count);
        Assert.Equal(new long[] { N, 3, 32, 32 }, test.Images.shape);
        foreach (int i in new[] { 0, 1, 4321, 9999 })
        {
            Assert.Equal(i % 10, test.Labels[i].item<long>());
            for (int c = 0; c < 3; c++)
                Assert.Equal(Pixel(i, c), test.Images[i, c, 17, 5].item<byte>());
        }
    }

    [Fact]
    public void ReadsBinaryFolder()
    {
        var dir = Path.Combine(TempDir.Create(), "cifar-10-batches-bin");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), BinaryBatch());
        File.WriteAllBytes(Path.Combine(dir, "data_batch_1.bin"), BinaryBatch());
        using var test = Cifar10.Load(Path.GetDirectoryName(dir)!, train: false);
        AssertContent(test);
    }

    [Fact]
    public void ReadsBinaryArchive()
    {
        var archive = Path.Combine(TempDir.Create(), "cifar-10-binary.tar.gz");
        WriteArchive(archive, ("cifar-10-batches-bin/data_batch_1.bin", BinaryBatch()), ("cifar-10-batches-bin/test_batch.bin", BinaryBatch()));
        using var test = Cifar10.Load(archive, train: false);
        AssertContent(test);
    }

    [Fact]
    public void ReadsPythonArchive()
    {
        var archive = Path.Combine(TempDir.Create(), "cifar-10-python.tar.gz");
        var batch = PythonBatch(Pixels(), Enumerable.Range(0, N).Select(i => i % 10).ToArray());
        WriteArchive(archive, ("cifar-10-batches-py/data_batch_1", batch), ("cifar-10-batches-py/test_batch", batch));
        using var test = Cifar10.Load(Path.GetDirectoryName(archive)!, train: false);
        AssertContent(test);
    }

    [Fact]
    public void LabelOutOfRangeNamesFileAndRecord()
    {
        var dir = TempDir.Create();
        File.WriteAllBytes(Path.Combine(dir, "data_batch_1.bin"), BinaryBatch());
        File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), BinaryBatch(i => i == 77 ? (byte)10 : (byte)1));
        var e = Assert.Throws<InvalidDataException>(() => Cifar10.Load(dir, train: false));
        Assert.Contains("test_batch.bin", e.Message);
        Assert.Contains("label 10 of record 77", e.Message);
    }

    [Fact]
    public void ATextLabelInAPythonBatchNamesFileAndRecord()
    {
        var dir = TempDir.Create();
        var batch = PythonBatch(Pixels(), Enumerable.Range(0, N).Select(i => i % 10).ToArray(), textLabelAt: 12);
        File.WriteAllBytes(Path.Combine(dir, "test_batch"), batch);
        File.WriteAllBytes(Path.Combine(dir, "data_batch_1"), batch);
        var e = Assert.Throws<InvalidDataException>(() => Cifar10.Load(dir, train: false));
        Assert.Contains("test_batch: label of record 12 is String 'cat', expected an integer 0-9", e.Message);
    }

    [Fact]
    public void TruncatedBatchAndMissingBatchAreNamed()
    {
        var dir = TempDir.Create();
        File.WriteAllBytes(Path.Combine(dir, "data_batch_1.bin"), BinaryBatch()[..5000]);
        var e = Assert.Throws<InvalidDataException>(() => Cifar10.Load(dir, train: true));
        Assert.Contains("data_batch_1.bin", e.Message);
        var missing = Assert.Throws<FileNotFoundException>(() => Cifar10.Load(TempDir.Create(), train: true));
        Assert.Contains("cifar-10-binary.tar.gz", missing.Message);
    }

    [Fact]
    public void NotAnArchiveIsNamed()
    {
        var path = Path.Combine(TempDir.Create(), "cifar-10-python.tar.gz");
        File.WriteAllText(path, "this is not gzip");
        var e = Assert.Throws<InvalidDataException>(() => Cifar10.Load(path, train: false));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void AnArchiveEntryDeclaringMoreThanABatchIsRefusedBeforeItIsRead()
    {
        // A ustar header declaring 8 GB for data_batch_1.bin, followed by a few bytes: a reader that
        // trusted the size would allocate it (gzip would carry 8 GB of zeros in 8 MB).
        var header = new byte[512];
        void Put(int at, string text) => System.Text.Encoding.ASCII.GetBytes(text).CopyTo(header, at);
        Put(0, "cifar-10-batches-bin/data_batch_1.bin");
        Put(100, "0000644\0");
        Put(108, "0000000\0");
        Put(116, "0000000\0");
        Put(124, "77777777777\0");
        Put(136, "00000000000\0");
        Put(148, "        ");
        header[156] = (byte)'0';
        Put(257, "ustar\000");
        Put(148, Convert.ToString(header.Sum(b => b), 8).PadLeft(6, '0') + "\0 ");
        var archive = Path.Combine(TempDir.Create(), "cifar-10-binary.tar.gz");
        using (var file = File.Create(archive))
        using (var gz = new GZipStream(file, CompressionLevel.Fastest))
        {
            gz.Write(header);
            gz.Write(new byte[4096]);
        }
        var e = Assert.Throws<InvalidDataException>(() => Cifar10.Load(archive, train: false));
        Assert.Contains("data_batch_1.bin declares 8,589,934,591 bytes, more than a CIFAR-10 batch", e.Message);
        Assert.Contains(archive, e.Message);
    }

    static void WriteArchive(string path, params (string Name, byte[] Bytes)[] entries)
    {
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gz);
        foreach (var (name, bytes) in entries)
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(bytes) });
    }

    /// <summary>
    /// A protocol-2 pickle laid out as CIFAR-10's Python 2 batches are: a dict whose 'data' is a
    /// numpy uint8 array rebuilt by numpy.core.multiarray._reconstruct and whose 'labels' is a list.
    /// </summary>
    /// <param name="textLabelAt">Write this record's label as the string "cat" (a damaged batch).</param>
    static byte[] PythonBatch(byte[] pixels, int[] labels, int textLabelAt = -1)
    {
        var p = new MemoryStream();
        void Op(params byte[] b) => p.Write(b);
        void Str(string s) { var b = Encoding.Latin1.GetBytes(s); Op(0x55, (byte)b.Length); p.Write(b); } // SHORT_BINSTRING
        void Int(int v) { Op(0x4a); p.Write(BitConverter.GetBytes(v)); }                                    // BININT
        void Global(string module, string name) { Op(0x63); p.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n")); }

        Op(0x80, 2);            // PROTO 2
        Op(0x7d);               // EMPTY_DICT
        Op(0x28);               // MARK
        Str("data");
        Global("numpy.core.multiarray", "_reconstruct");
        Global("numpy", "ndarray");
        Int(0); Op(0x85);       // (0,)
        Str("b"); Op(0x87);     // TUPLE3
        Op(0x52);               // REDUCE
        Op(0x28);               // MARK: state tuple
        Int(1);
        Int(N); Int(ImageBytes); Op(0x86);
        Global("numpy", "dtype");
        Str("u1"); Int(0); Int(1); Op(0x87); Op(0x52);
        Op(0x28); Int(3); Str("|"); Op(0x4e, 0x4e, 0x4e); Int(-1); Int(-1); Int(0); Op(0x74); Op(0x62); // dtype BUILD
        Op(0x89);               // NEWFALSE (C order)
        Op(0x54); p.Write(BitConverter.GetBytes(pixels.Length)); p.Write(pixels); // BINSTRING raw buffer
        Op(0x74);               // TUPLE
        Op(0x62);               // BUILD
        Str("labels");
        Op(0x5d, 0x28);         // EMPTY_LIST, MARK
        for (int i = 0; i < labels.Length; i++)
            if (i == textLabelAt) Str("cat");
            else Int(labels[i]);
        Op(0x65);               // APPENDS
        Op(0x75);               // SETITEMS
        Op(0x2e);               // STOP
        return p.ToArray();
    }
}

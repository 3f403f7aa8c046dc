using Aavae.Training;
using Aavae.Checkpoints;
using static TorchSharp.torch;

namespace Aavae.Tests.Checkpoints;

/// <summary>
/// A damaged checkpoint never loads silently: 40 damaged copies of a pre-training last.ckpt (cut
/// short, bytes changed, a 4 KiB block overwritten) are each refused with one line naming the file,
/// or load with every tensor identical to the undamaged file's (bytes no reader depends on).
/// </summary>
public class DamagedCheckpointTests(TinyRun tiny) : IClassFixture<TinyRun>
{
    public static TheoryData<string, int> Damage()
    {
        var data = new TheoryData<string, int>();
        for (int i = 0; i < 15; i++) data.Add("truncated", i);
        for (int i = 0; i < 15; i++) data.Add("bytes", i);
        for (int i = 0; i < 10; i++) data.Add("block", i);
        return data;
    }

    private static byte[] Damaged(byte[] original, string kind, int seed)
    {
        var rng = new Random(seed * 31 + kind.Length);
        switch (kind)
        {
            case "truncated":
                return original[..rng.Next(1, original.Length - 1)];
            case "bytes":
            {
                var copy = (byte[])original.Clone();
                int changes = rng.Next(1, 101);
                for (int i = 0; i < changes; i++)
                {
                    int at = rng.Next(copy.Length);
                    copy[at] ^= (byte)rng.Next(1, 256); // never a no-op
                }
                return copy;
            }
            default:
            {
                var copy = (byte[])original.Clone();
                int at = rng.Next(0, copy.Length - 4096);
                var block = new byte[4096];
                rng.NextBytes(block);
                block.CopyTo(copy, at);
                return copy;
            }
        }
    }

    [Theory]
    [MemberData(nameof(Damage))]
    public void DamagedCopyIsRefusedOrLoadsIdentically(string kind, int seed)
    {
        var original = File.ReadAllBytes(tiny.Checkpoint);
        var path = Path.Combine(TempDir.Create(), "last.ckpt");
        File.WriteAllBytes(path, Damaged(original, kind, seed));

        PretrainedWeights weights;
        try
        {
            weights = PretrainedWeights.Read(path);
        }
        catch (InvalidDataException e)
        {
            Assert.StartsWith(path, e.Message);
            Assert.DoesNotContain('\n', e.Message);
            return;
        }
        using (weights)
        using (var good = PretrainedWeights.Read(tiny.Checkpoint))
        {
            Assert.Equal(good.Options, weights.Options);
            Assert.Equal(good.StateDict.Keys.Order(), weights.StateDict.Keys.Order());
            foreach (var (name, t) in good.StateDict)
                Assert.True(t.dtype == weights.StateDict[name].dtype && t.eq(weights.StateDict[name]).all().item<bool>(), $"{kind} #{seed}: '{name}' loaded with changed values");
        }
    }

    [Fact]
    public void ChangedTensorBytesAreRefusedNamingTheEntry()
    {
        // Change bytes in the middle of the first tensor's stored (deflated) bytes, found through its
        // local zip header (name length at offset 26, extra length at 28) and the central directory's size.
        var bytes = File.ReadAllBytes(tiny.Checkpoint);
        const string entry = "model/data/0";
        long compressed;
        using (var zip = new System.IO.Compression.ZipArchive(new MemoryStream(bytes)))
            compressed = zip.GetEntry(entry)!.CompressedLength;
        int name = bytes.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(entry));
        int header = name - 30;
        Assert.True(header >= 0 && BitConverter.ToUInt32(bytes, header) == 0x04034b50, "local header of the first tensor");
        int data = name + entry.Length + BitConverter.ToUInt16(bytes, header + 28);
        for (int i = 0; i < 8; i++) bytes[data + compressed / 2 + i] ^= 0x5a;
        var path = Path.Combine(TempDir.Create(), "last.ckpt");
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<InvalidDataException>(() => PretrainedWeights.Read(path));
        Assert.Contains($"zip entry '{entry}'", e.Message);
        Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Read(path));
        var (code, _, stderr) = CliRunner.Run(TempDir.Create(), "export", "--checkpoint", path, "--out", Path.Combine(TempDir.Create(), "out.pt"));
        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("damaged file", stderr);
    }
}

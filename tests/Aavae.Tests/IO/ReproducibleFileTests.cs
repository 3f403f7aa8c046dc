using System.IO.Compression;
using Aavae.Checkpoints;
using Aavae.Models;
using static TorchSharp.torch;

namespace Aavae.Tests.IO;

/// <summary>The same weights written twice give the same bytes: checkpoints and exports can be compared and cached by hash.</summary>
public class ReproducibleFileTests
{
    [Fact]
    public void EqualStateDictsWrittenAtDifferentTimesAreByteIdentical()
    {
        var dir = TempDir.Create();
        manual_seed(3);
        using var model = new AavaeModel(new ModelOptions { Encoder = "resnet18", Width = 4, LatentDim = 8 });
        var first = Path.Combine(dir, "first.pt");
        var second = Path.Combine(dir, "second.pt");
        TorchFile.Write(first, StateDicts.WithPrefix(model, ""));
        Thread.Sleep(2100); // a zip timestamp's resolution is two seconds
        TorchFile.Write(second, StateDicts.WithPrefix(model, ""));
        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));

        using var zip = ZipFile.OpenRead(first);
        Assert.All(zip.Entries, e => Assert.Equal(new DateTime(1980, 1, 1), e.LastWriteTime.DateTime));
        // Still a valid archive whose checksums hold: read back through the CRC check.
        var back = StateDicts.Select(TorchFile.Read(first), "");
        Assert.Equal(model.state_dict().Count, back.Count);
    }
}

using System.Text.Json;
using Aavae.Data;
using StbImageWriteSharp;

namespace Aavae.Tests.Interop;

/// <summary>
/// The ImageNet validation images are the ones the reference's SSLImagenet holds out: numpy's
/// legacy Mersenne Twister and shuffle, reproduced, over torchvision's sorted file list, computed
/// here by Debian's numpy in the reference's own way.
/// </summary>
public class ImageNetSplitParityTests
{
    [RequiresFact(Need.PyTorch)]
    public void HeldOutImagesEqualTheReferencesNumpyPartition()
    {
        var root = TempDir.Create();
        var random = new Random(3);
        // Three classes of unequal size, names that sort differently as text and as numbers.
        foreach (var (name, count) in new[] { ("n02", 57), ("n01", 63), ("n10", 52) })
        {
            Directory.CreateDirectory(Path.Combine(root, "train", name));
            for (int i = 0; i < count; i++)
            {
                var pixels = new byte[4 * 4 * 3];
                random.NextBytes(pixels);
                // Some in nested folders: torchvision walks them in sorted order.
                var folder = Path.Combine(root, "train", name, i % 5 == 0 ? "extra" : i % 7 == 0 ? "a-b" : "");
                Directory.CreateDirectory(folder);
                using var f = File.Create(Path.Combine(folder, $"img_{i * 7 % count}_{i}.png"));
                new ImageWriter().WritePng(pixels, 4, 4, ColorComponents.RedGreenBlue, f);
            }
        }
        var json = Path.Combine(root, "split.json");
        ReferenceFixtures.RunPython("imagenet-split", root, json, "50");
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        string[] Names(string key) => doc.RootElement.GetProperty(key).EnumerateArray().Select(e => e.GetString()!).ToArray();

        var source = new ImageFolderSource(Path.Combine(root, "train"), 4);
        var (train, val) = DataModule.HoldOutPerClass(source, 50);
        string Relative(long i) => Path.GetRelativePath(Path.Combine(root, "train"), source.PathOf((int)i));
        Assert.Equal(Names("val"), val.Indices.Select(Relative).ToArray());
        Assert.Equal(Names("train").Order(), train.Indices.Select(Relative).Order());
        Assert.Equal(150, val.Count);
    }

    [Fact]
    public void MersenneTwisterMatchesItsPublishedFirstOutputs()
    {
        // init_genrand(5489), the generator's default seed: the reference implementation's first outputs.
        var rng = new NumpyRandomState(5489);
        Assert.Equal(new uint[] { 3499211612, 581869302, 3890346734, 3586334585, 545404204 }, Enumerable.Range(0, 5).Select(_ => rng.NextUInt32()).ToArray());
    }
}

using System.Text.Json.Nodes;
using Aavae.Inference;
using Aavae.Tests.Data;

namespace Aavae.Tests.Inference;

/// <summary>Exact cosine search and near-duplicate groups, against similarities computed by hand, and the neighbours command on real pictures.</summary>
public class PictureIndexTests(TinyRun tiny) : IClassFixture<TinyRun>
{
    [Fact]
    public void NeighboursComeMostSimilarFirstWithoutTheQueryItself()
    {
        // Unit vectors at 0, 30, 60 and 90 degrees, and one of twice the length at 10 degrees: cosine ignores length.
        static float[] At(double degrees, double length = 1) => [(float)(length * Math.Cos(degrees * Math.PI / 180)), (float)(length * Math.Sin(degrees * Math.PI / 180))];
        using var index = new PictureIndex(["a", "b", "c", "d", "e"], [At(0), At(30), At(60), At(90), At(10, 2)]);
        var near = index.Nearest(At(0), k: 3, self: "a");
        Assert.Equal(["e", "b", "c"], near.Select(n => n.Path));
        Assert.Equal(Math.Cos(Math.PI / 18), near[0].Similarity, 5);
        Assert.Equal(Math.Cos(Math.PI / 6), near[1].Similarity, 5);
        Assert.Equal(["a", "e"], index.Nearest(At(0), k: 2).Select(n => n.Path));
    }

    [Fact]
    public void DuplicatesAreGroupsJoinedAboveTheThresholdLargestFirst()
    {
        // a-b-c a chain (each pair next to each other above 0.99, a and c not), d-e a pair, f alone.
        static float[] At(double degrees) => [(float)Math.Cos(degrees * Math.PI / 180), (float)Math.Sin(degrees * Math.PI / 180)];
        using var index = new PictureIndex(["a", "b", "c", "d", "e", "f"], [At(0), At(7), At(14), At(90), At(92), At(45)]);
        var groups = index.Duplicates(Math.Cos(8 * Math.PI / 180));
        Assert.Equal(2, groups.Count);
        Assert.Equal(["a", "b", "c"], groups[0].Pictures.Select(p => p.Path).Order());
        Assert.Equal(["d", "e"], groups[1].Pictures.Select(p => p.Path).Order());
        Assert.All(groups[1].Pictures, p => Assert.Equal(Math.Cos(2 * Math.PI / 180), p.Similarity, 5));
        // In chunks of one row the pairs are the same.
        Assert.Equal(groups.Select(g => g.Pictures.Count), index.Duplicates(Math.Cos(8 * Math.PI / 180), chunk: 1).Select(g => g.Pictures.Count));
    }

    [RequiresFact(Need.Pil)]
    [Trait(Category.Name, Category.Slow)]
    public void APicturesCopyIsItsFirstNeighbourAndResizedOrRecompressedCopiesAreOneGroup()
    {
        var dir = TempDir.Create();
        var pictures = Path.Combine(dir, "pictures");
        var grey = PictureFolderTests.FashionMnist(40);
        for (int i = 0; i < grey.Length; i++) PictureFolderTests.WritePng(Path.Combine(pictures, $"{i}.png"), grey[i]);
        File.Copy(Path.Combine(pictures, "7.png"), Path.Combine(pictures, "copy of 7.png"));
        // Near-duplicates of picture 3: twice the size, and recompressed as JPEG.
        var script = $"from PIL import Image; im = Image.open('{pictures}/3.png'); im.resize((56, 56), Image.BICUBIC).save('{pictures}/3 large.png'); im.save('{pictures}/3 again.jpg', quality=90)";
        ReferenceFixtures.RunPythonCode(script);

        // A few steps on the folder itself: an encoder of one step sees every picture alike (similarities all near 0.99).
        var (code, stdout, err2) = CliRunner.Run(dir, ["pretrain", "--dataset", "folder", "--data-dir", pictures, "--cache-dir", Path.Combine(dir, "cache"), "--input-size", "32",
            "--width", "8", "--latent-dim", "16", "--batch-size", "16", "--max-steps", "8", "--limit-val-batches", "0", "--device", "cpu", "--output", "run"]);
        Assert.True(code == 0, err2);
        (code, stdout, err2) = CliRunner.Run(dir, ["neighbors", "--checkpoint", "run", "--images", pictures, "--query", Path.Combine(pictures, "7.png"), "--k", "3", "--out", "near.json"]);
        Assert.True(code == 0, err2);
        var first = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "near.json")))![0]!;
        Assert.Equal("7.png", (string)first["query"]!);
        Assert.Equal("copy of 7.png", (string)first["neighbors"]![0]!["path"]!);
        Assert.True((double)first["neighbors"]![0]!["similarity"]! > 0.99999);
        Assert.True(File.Exists(Path.Combine(dir, "near.png")), stdout);

        (code, _, err2) = CliRunner.Run(dir, ["neighbors", "--checkpoint", "run", "--images", pictures, "--duplicates", "0.99", "--out", "duplicates.json"]);
        Assert.True(code == 0, err2);
        var groups = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "duplicates.json")))!.AsArray();
        var names = groups.Select(g => g!["pictures"]!.AsArray().Select(p => (string)p!["path"]!).Order(StringComparer.Ordinal).ToList()).ToList();
        // Fashion-MNIST holds near-twins of its own too (the same shirt twice): only the group of picture 3 is known exactly.
        Assert.Equal(["3 again.jpg", "3 large.png", "3.png"], Assert.Single(names, n => n.Contains("3.png")));
        Assert.Contains(names, n => n.Contains("7.png") && n.Contains("copy of 7.png"));
    }

    /// <summary>
    /// The encoder <c>aavae pretrain --max-time 15m --linear-eval cached</c> trained (seed 0, bf16-mixed;
    /// 86.72% linear-evaluation test accuracy), its encoder in float16: tests/fixtures/README.md.
    /// </summary>
    internal static string TrainedEncoder => Path.Combine(AppContext.BaseDirectory, "fixtures", "cpu-small-15m-encoder.safetensors");

    [Fact]
    [Trait(Category.Name, Category.Slow)]
    public void ATrainedEncodersNeighboursShareTheQuerysClassFarMoreOftenThanARandomOnes()
    {
        var dir = TempDir.Create();
        var pictures = Path.Combine(dir, "labelled");
        // 1,000 pictures of the test split the fixture never trained on, 100 of each class, in class folders.
        var (grey, labels) = PictureFolderTests.FashionMnist(train: false);
        var taken = new int[10];
        for (int i = 0; i < labels.Length && taken.Sum() < 1000; i++)
        {
            if (taken[labels[i]] == 100) continue;
            taken[labels[i]]++;
            PictureFolderTests.WritePng(Path.Combine(pictures, $"class{labels[i]}", $"{i}.png"), grey[i]);
        }
        // The random encoder is the fixture's shape at its initialisation (one step at the warm-up's first, near-zero, learning rate).
        var (code, _, err) = CliRunner.Run(dir, ["pretrain", "--preset", "cpu-small", "--max-steps", "1", "--limit-val-batches", "0", "--precision", "32", "--output", "random"]);
        Assert.True(code == 0, err);

        double trained = ClassPrecision(dir, TrainedEncoder, pictures), random = ClassPrecision(dir, Path.Combine(dir, "random"), pictures);
        // Measured on machine B: 67.1% against 58.5% (chance: 10%); a random ResNet already groups Fashion-MNIST's classes well.
        Assert.True(random > 0.3, $"random encoder: {random:P1} of the 8 nearest share the class");
        Assert.True(trained > random + 0.04, $"trained {trained:P1} against random {random:P1} of the 8 nearest sharing the query's class");
    }

    /// <summary>The share of each picture's 8 nearest others (cosine, the index <c>neighbors</c> searches) in the picture's class folder.</summary>
    private static double ClassPrecision(string dir, string checkpoint, string pictures)
    {
        var features = Path.Combine(dir, $"{Path.GetFileNameWithoutExtension(checkpoint)}.npy");
        var (code, _, err) = CliRunner.Run(dir, ["embed", "--checkpoint", checkpoint, "--dataset", "fashion-mnist", "--images", pictures, "--output", features]);
        Assert.True(code == 0, err);
        using var index = PictureIndex.Load(features);
        static string Class(string path) => path.Split('/', '\\')[^2];
        int same = 0, all = 0;
        for (int row = 0; row < index.Paths.Count; row++)
            foreach (var near in index.Nearest(index.Features(row), k: 8, self: index.Paths[row]))
            {
                all++;
                if (Class(near.Path) == Class(index.Paths[row])) same++;
            }
        Assert.Equal(1000 * 8, all);
        return (double)same / all;
    }

    [RequiresFact(Need.Numpy)]
    public void EmbedsCsvReadsBackInPythonToTheNpysValuesWithTheFoldersClasses()
    {
        var dir = TempDir.Create();
        var pictures = Path.Combine(dir, "labelled");
        var grey = PictureFolderTests.FashionMnist(9);
        string[] classes = ["boot", "coat", "shirt, long"];
        for (int i = 0; i < grey.Length; i++) PictureFolderTests.WritePng(Path.Combine(pictures, classes[i % 3], $"{i}.png"), grey[i]);
        var (code, stdout, err) = CliRunner.Run(dir, ["embed", "--checkpoint", tiny.Checkpoint, "--images", pictures, "--output", "e.npy"]);
        Assert.True(code == 0, err);
        Assert.Contains("e.csv", stdout);
        var check = """
            import csv, sys, numpy as np
            features = np.load(sys.argv[1]); files = open(sys.argv[2]).read().split()
            rows = list(csv.reader(open(sys.argv[3])))
            assert rows[0] == ['filenames'] + [f'embedding_{j}' for j in range(features.shape[1])] + ['labels'], rows[0][:3]
            assert len(rows) == features.shape[0] + 1
            for i, r in enumerate(rows[1:]):
                assert np.array_equal(np.array(r[1:-1], dtype=np.float32), features[i]), i
                name = r[0]; cls = name.split('/')[0]
                assert int(r[-1]) == sorted(['boot', 'coat', 'shirt, long']).index(cls), (name, r[-1])
            print('ok', len(rows) - 1)
            """;
        var output = ReferenceFixtures.RunPythonCode(check, Path.Combine(dir, "e.npy"), Path.Combine(dir, "e_files.txt"), Path.Combine(dir, "e.csv"));
        Assert.Equal("ok 9", output.Trim());
    }
}

using System.Text.Json.Nodes;
using Aavae.Tests.Data;

namespace Aavae.Tests.Cli;

/// <summary><c>pretrain --dataset folder</c> as a user types it: a folder of their pictures, broken ones among them.</summary>
[Trait(Category.Name, Category.Slow)]
public class PictureFolderCommandTests
{
    private static readonly string[] Tiny = ["--width", "4", "--latent-dim", "8", "--batch-size", "16", "--max-steps", "2", "--limit-val-batches", "1", "--device", "cpu"];

    [Fact]
    public void AFolderPretrainsWithItsBrokenFilesSkippedAndItsStatisticsKeptForEmbed()
    {
        var dir = TempDir.Create();
        var pictures = Path.Combine(dir, "my pictures");
        var grey = PictureFolderTests.FashionMnist(60);
        for (int i = 0; i < grey.Length; i++) PictureFolderTests.WritePng(Path.Combine(pictures, i % 3 == 0 ? "holiday" : Path.Combine("holiday", "day 2"), $"{i}.png"), grey[i]);
        File.WriteAllBytes(Path.Combine(pictures, "holiday", "cut.png"), File.ReadAllBytes(Path.Combine(pictures, "holiday", "0.png"))[..40]);
        File.WriteAllText(Path.Combine(pictures, "IMG_0001.jpg"), "a text file with a picture's name");
        File.WriteAllBytes(Path.Combine(pictures, "holiday", "day 2", "broken.jpg"), [0xFF, 0xD8, 0xFF, 0xE0, 0, 16]);

        var (code, stdout, err) = CliRunner.Run(dir, ["pretrain", "--dataset", "folder", "--data-dir", pictures, "--cache-dir", Path.Combine(dir, "cache"), .. Tiny, "--output", "run"]);
        Assert.True(code == 0, err);
        Assert.Contains("64px, stl10 stem", stdout);
        Assert.Contains("3 skipped, listed in", stdout);
        var skipped = File.ReadAllLines(Path.Combine(dir, "run", "skipped.txt"));
        Assert.Equal(["IMG_0001.jpg", "holiday/cut.png", "holiday/day 2/broken.jpg"], skipped.Select(l => l.Split('\t')[0]).Order(StringComparer.Ordinal));

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "run", "config.json")))!;
        Assert.Equal("folder", (string)config["data"]!["dataset"]!);
        var mean = config["data"]!["normalization"]!["mean"]!.AsArray().Select(v => (double)v!).ToList();
        // Grey pictures: the three channels' means agree, and are Fashion-MNIST's dark background's (about 0.29).
        Assert.InRange(mean[0], 0.2, 0.4);
        Assert.Equal(mean[0], mean[2], 6);

        // A later command on the checkpoint takes the folder's transform and statistics from it.
        (code, stdout, err) = CliRunner.Run(dir, ["embed", "--checkpoint", "run", "--images", Path.Combine(pictures, "holiday", "day 2"), "--output", "e.npy"]);
        Assert.True(code == 0, err);
        Assert.Contains("folder transform", stdout);
        // embed skips the broken picture too, names it, and lists only the pictures it encoded.
        Assert.Contains("1 unreadable picture skipped", stdout);
        Assert.Contains("broken.jpg", stdout);
        var listed = File.ReadAllLines(Path.Combine(dir, "e_files.txt"));
        Assert.Equal(Enumerable.Range(0, grey.Length).Count(i => i % 3 != 0), listed.Length);
        Assert.DoesNotContain(listed, l => l.EndsWith("broken.jpg", StringComparison.Ordinal));
    }

    [Fact]
    public void AFolderWithoutAPictureIsRefusedInOneLineAndLeavesNoRun()
    {
        var dir = TempDir.Create();
        var empty = Directory.CreateDirectory(Path.Combine(dir, "nothing here")).FullName;
        File.WriteAllText(Path.Combine(empty, "notes.txt"), "no pictures");
        var (code, _, err) = CliRunner.Run(dir, ["pretrain", "--dataset", "folder", "--data-dir", empty, "--cache-dir", Path.Combine(dir, "cache"), .. Tiny, "--output", "run"]);
        Assert.Equal(2, code);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"aavae: error: {empty}: no pictures", line);
        Assert.False(Directory.Exists(Path.Combine(dir, "run")));
    }

    [Fact]
    public void AnInputSizeTheStemCannotMakeIsRefusedNamingTheNearestThatWorks()
    {
        var dir = TempDir.Create();
        var (code, _, err) = CliRunner.Run(dir, ["pretrain", "--dataset", "folder", "--data-dir", dir, "--input-size", "70", .. Tiny, "--output", "run"]);
        Assert.Equal(2, code);
        Assert.Contains("--input-size 70 cannot be produced by the decoder with the stl10 stem: it must be a multiple of 16 (nearest: 64 or 80)", err);
    }

    [Fact]
    public void ALabelledFolderIsJudgedByItsSubFoldersOrByACsvAlike()
    {
        // Fashion-MNIST's first 300 pictures in a folder per class, and the same classes as a CSV of path and label.
        var dir = TempDir.Create();
        var pictures = Path.Combine(dir, "labelled");
        var grey = PictureFolderTests.FashionMnist(300);
        using var shipped = Aavae.Data.FashionMnist.Load(Aavae.Data.FashionMnist.ShippedDirectory, train: true);
        var labels = shipped.Labels.narrow(0, 0, 300).data<long>().ToArray();
        var csv = new List<string> { "path,label" };
        for (int i = 0; i < grey.Length; i++)
        {
            PictureFolderTests.WritePng(Path.Combine(pictures, $"class {labels[i]}", $"{i}.png"), grey[i]);
            csv.Add($"class {labels[i]}/{i}.png,{labels[i]}");
        }
        File.WriteAllLines(Path.Combine(dir, "labels.csv"), csv);
        var tiny = new TinyRun();
        string Knn(params string[] extra)
        {
            var (code, stdout, err) = CliRunner.Run(dir, ["knn", "--checkpoint", tiny.Checkpoint, "--dataset", "folder", "--data-dir", pictures, "--cache-dir", Path.Combine(dir, "cache"), "--device", "cpu", "--k", "10", .. extra]);
            Assert.True(code == 0, err);
            return stdout.Split('\n').Single(l => l.StartsWith("k-NN", StringComparison.Ordinal));
        }
        var byFolders = Knn();
        // A seeded 10% validates and 10% tests: 30 test pictures of 300.
        Assert.Contains("(240 training / 30 test images)", byFolders);
        var accuracy = double.Parse(System.Text.RegularExpressions.Regex.Match(byFolders, @"accuracy ([0-9.]+)%").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        // Ten classes: chance is 10%; even a barely trained encoder's features sort Fashion-MNIST far better (57% here at k 10, 240 pictures).
        Assert.InRange(accuracy, 30, 100);
        // The same pictures and classes through a CSV: the same split and the same accuracy.
        Assert.Equal(byFolders, Knn("--labels", Path.Combine(dir, "labels.csv")));
    }
}

using System.Text.RegularExpressions;
using Aavae.Data;
using Aavae.Inference;

namespace Aavae.Tests.Packaging;

/// <summary>
/// From the consumer's side, on this machine (Debian 12, whose libstdc++ lacks what TorchSharp's
/// wrapper asks for): a new project outside the repository adds the packed library and runs the
/// sample that classifies a folder of pictures; the tool installs from the same feed and runs
/// with no repository, finding the Fashion-MNIST it ships.
/// </summary>
[Trait(Category.Name, Category.Packaging)]
public class PackageTests(PackedFeed packages, TinyRun tiny, Xunit.Abstractions.ITestOutputHelper log) : IClassFixture<PackedFeed>, IClassFixture<TinyRun>
{
    private static readonly string[] ClassNames = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"];

    [Fact]
    public void ANewProjectAddsTheLibraryPackageAndClassifiesAFolderOfPictures()
    {
        var work = TempDir.Create();
        var project = packages.NewConsumer(work, Path.Combine(PackedFeed.Root, "samples", "ClassifyFolder", "Program.cs"), ("Aavae.Core", null));

        // 20 labelled training pictures a class, 30 test pictures to classify.
        var (labelled, query, files, truth) = Pictures(work);
        var probePath = Path.Combine(work, "probe.json");

        var output = PackedFeed.Run("dotnet", ["run", "-c", "Release", "--", tiny.Checkpoint, labelled, query, probePath], project, TimeSpan.FromMinutes(10));

        Assert.Contains("encoder: ", output);
        Assert.Matches(@"probe: 10 classes, 200 pictures, train accuracy", output);
        var predicted = Regex.Matches(output, @"^(\d{5})\.png\t(\S+)\t([\d.]+)$", RegexOptions.Multiline)
            .ToDictionary(m => int.Parse(m.Groups[1].Value), m => m.Groups[2].Value);
        Assert.Equal(30, predicted.Count);
        // What the library in this process predicts, with the same pictures, probe recipe and seed.
        using var encoder = ImageEncoder.Load(tiny.Checkpoint, device: "cpu");
        var probe = LinearProbe.Load(probePath);
        var expected = encoder.Embed(files).Select(f => probe.Classes[probe.Predict(f)]).ToArray();
        Assert.Equal(expected, Enumerable.Range(0, 30).Select(i => predicted[i]));
        double accuracy = Enumerable.Range(0, 30).Count(i => predicted[i] == $"{truth[i]}-{ClassNames[truth[i]]}") / 30.0;
        Assert.True(accuracy > 0.3, $"accuracy {accuracy} (chance 0.1)");
        var (restored, bytes) = PackedFeed.RestoreSize(project);
        Assert.Contains(restored, p => p.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase));
        log.WriteLine($"restore of a project on Aavae.Core: {restored.Length} packages, {bytes / 1e6:F0} MB");
    }

    /// <summary>Labelled pictures (20 a class, in folders named after their class) and 30 test pictures with their truth.</summary>
    private static (string Labelled, string Query, string[] Files, int[] Truth) Pictures(string work)
    {
        var labelled = Path.Combine(work, "labelled");
        using (var train = FashionMnist.Load(FashionMnist.ShippedDirectory, train: true))
        {
            var (_, labels) = train.GetBatch(Enumerable.Range(0, 600).Select(i => (long)i).ToArray());
            var byClass = labels.data<long>().ToArray().Select((l, i) => (Label: (int)l, Index: i)).GroupBy(p => p.Label);
            foreach (var group in byClass)
            {
                var dir = Directory.CreateDirectory(Path.Combine(labelled, $"{group.Key}-{ClassNames[group.Key]}")).FullName;
                Inference.ImageEncoderTests.WritePngs(train, dir, group.Take(20).Select(p => (long)p.Index).ToArray());
            }
        }
        var query = Directory.CreateDirectory(Path.Combine(work, "query")).FullName;
        var (files, truth) = Inference.ImageEncoderTests.WritePngs(query, 0, 30);
        return (labelled, query, files, truth);
    }

    [Fact]
    public void ANewProjectEmbedsWithTheOnnxPackageAloneAsTheLibtorchEncoderDoes()
    {
        var work = TempDir.Create();
        var model = Onnx.OnnxImageEncoderTests.Export(tiny.Checkpoint, work);
        var project = packages.NewConsumer(work, Path.Combine(PackedFeed.Root, "samples", "EmbedOnnx", "Program.cs"), ("Aavae.Onnx", null));
        var (files, _) = Inference.ImageEncoderTests.WritePngs(Directory.CreateDirectory(Path.Combine(work, "pictures")).FullName, 40, 6);
        var photo = Path.Combine(work, "pictures", "photo.jpg");
        var random = new Random(7);
        var rgb = new byte[57 * 41 * 3];
        random.NextBytes(rgb);
        using (var s = File.Create(photo)) new StbImageWriteSharp.ImageWriter().WriteJpg(rgb, 57, 41, StbImageWriteSharp.ColorComponents.RedGreenBlue, s, 90);
        string[] pictures = [.. files, photo];

        var output = PackedFeed.Run("dotnet", ["run", "-c", "Release", "--", model, .. pictures], project, TimeSpan.FromMinutes(10));

        var got = Regex.Matches(output, @"^(\S+)\t(\S+)$", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Split(',').Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        using var encoder = ImageEncoder.Load(tiny.Checkpoint, device: "cpu");
        var want = encoder.Embed(pictures);
        for (int i = 0; i < pictures.Length; i++)
        {
            var features = got[Path.GetFileName(pictures[i])];
            double scale = want[i].Max(MathF.Abs);
            Assert.True(want[i].Zip(features, (a, b) => (double)Math.Abs(a - b)).Max() <= 1e-5 * scale, Path.GetFileName(pictures[i]));
        }
        var (restored, bytes) = PackedFeed.RestoreSize(project);
        Assert.DoesNotContain(restored, p => p.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase) || p.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(restored, p => p.StartsWith("Microsoft.ML.OnnxRuntime/", StringComparison.OrdinalIgnoreCase));
        log.WriteLine($"restore of a project on Aavae.Onnx: {restored.Length} packages, {bytes / 1e6:F0} MB");
    }

    [Fact]
    public void TheMlNetSampleTrainsAClassifierOnTheOnnxEncodersFeatures()
    {
        var work = TempDir.Create();
        var model = Onnx.OnnxImageEncoderTests.Export(tiny.Checkpoint, work);
        var project = packages.NewConsumer(work, Path.Combine(PackedFeed.Root, "samples", "OnnxPipeline", "Program.cs"),
            ("Aavae.Onnx", null), ("Microsoft.ML", "6.0.0"), ("Microsoft.ML.OnnxTransformer", "6.0.0"));
        var (labelled, query, _, truth) = Pictures(work);

        var output = PackedFeed.Run("dotnet", ["run", "-c", "Release", "--", model, labelled, query], project, TimeSpan.FromMinutes(10));

        Assert.Matches(@"pipeline: 10 classes, 200 pictures, train accuracy", output);
        var predicted = Regex.Matches(output, @"^(\d{5})\.png\t(\S+)\t([\d.]+)$", RegexOptions.Multiline)
            .ToDictionary(m => int.Parse(m.Groups[1].Value), m => m.Groups[2].Value);
        Assert.Equal(30, predicted.Count);
        double accuracy = Enumerable.Range(0, 30).Count(i => predicted[i] == $"{truth[i]}-{ClassNames[truth[i]]}") / 30.0;
        Assert.True(accuracy > 0.3, $"accuracy {accuracy} (chance 0.1)");
    }

    [Fact]
    public void TheToolInstallsFromTheFeedAndTrainsOnTheFashionMnistItShips()
    {
        var work = TempDir.Create();
        var tools = Path.Combine(work, "tools");
        PackedFeed.Run("dotnet", ["tool", "install", "aavae", "--tool-path", tools, "--add-source", packages.Feed, "--version", packages.Version], work, TimeSpan.FromMinutes(10));
        var aavae = Path.Combine(tools, "aavae");

        Assert.StartsWith(packages.Version, PackedFeed.Run(aavae, ["--version"], work, TimeSpan.FromMinutes(1)).Trim());
        Assert.Contains("parameters", PackedFeed.Run(aavae, ["summary", "--width", "4"], work, TimeSpan.FromMinutes(2)));
        var empty = Directory.CreateDirectory(Path.Combine(work, "elsewhere")).FullName;
        var output = PackedFeed.Run(aavae, ["pretrain", "--preset", "cpu-small", "--width", "4", "--max-steps", "2", "--limit-val-batches", "1", "--knn-every", "0", "--device", "cpu"], empty, TimeSpan.FromMinutes(5));
        Assert.Contains("done: ", output);
        Assert.True(File.Exists(Path.Combine(empty, "runs", "aavae-fashion-mnist-0", "checkpoints", "last.ckpt")));
    }

    [Fact]
    public void TheVersionIsTheOneInDirectoryBuildProps()
    {
        var (code, output, _) = CliRunner.Run(TempDir.Create(), "--version");
        Assert.Equal(0, code);
        Assert.Matches(@"^\d+\.\d+\.\d+", PackedFeed.ReleasedVersion);
        Assert.StartsWith(PackedFeed.ReleasedVersion + "+", output.Trim());
        Assert.Contains($"## {PackedFeed.ReleasedVersion}", File.ReadAllText(Path.Combine(PackedFeed.Root, "CHANGELOG.md")));
    }
}

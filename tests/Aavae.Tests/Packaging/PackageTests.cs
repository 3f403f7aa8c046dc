using System.Text.RegularExpressions;
using Aavae.Data;

namespace Aavae.Tests.Packaging;

/// <summary>
/// From the consumer's side, on this machine (Debian 12, whose libstdc++ lacks what TorchSharp's
/// wrapper asks for): a new project outside the repository adds the packed library and runs the
/// sample that classifies a folder of pictures; the tool installs from the same feed and runs
/// with no repository, finding the Fashion-MNIST it ships.
/// </summary>
public class PackageTests(PackedFeed packages, TinyRun tiny) : IClassFixture<PackedFeed>, IClassFixture<TinyRun>
{
    private static readonly string[] ClassNames = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"];

    [Fact]
    public void ANewProjectAddsTheLibraryPackageAndClassifiesAFolderOfPictures()
    {
        var work = TempDir.Create();
        var project = Path.Combine(work, "consumer");
        PackedFeed.Run("dotnet", ["new", "console", "-o", project, "--no-restore"], work, TimeSpan.FromMinutes(2));
        File.WriteAllText(Path.Combine(project, "nuget.config"),
            $"<configuration><packageSources><add key=\"aavae-test\" value=\"{packages.Feed}\" /></packageSources></configuration>");
        PackedFeed.Run("dotnet", ["add", "package", "Aavae.Core", "--version", packages.Version], project, TimeSpan.FromMinutes(10));
        File.Copy(Path.Combine(PackedFeed.Root, "samples", "ClassifyFolder", "Program.cs"), Path.Combine(project, "Program.cs"), overwrite: true);

        // 20 labelled training pictures a class, 30 test pictures to classify.
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
        var (code, output, _) = Cli.CliRunner.Run(TempDir.Create(), "--version");
        Assert.Equal(0, code);
        Assert.Matches(@"^\d+\.\d+\.\d+", PackedFeed.ReleasedVersion);
        Assert.StartsWith(PackedFeed.ReleasedVersion + "+", output.Trim());
        Assert.Contains($"## {PackedFeed.ReleasedVersion}", File.ReadAllText(Path.Combine(PackedFeed.Root, "CHANGELOG.md")));
    }
}

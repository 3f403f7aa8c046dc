using Aavae.Configuration;
using Aavae.Training;
using Aavae.Runs;

namespace Aavae.Tests.Runs;

public class RunFolderTests
{
    [Fact]
    public void FolderHoldingARunIsRefusedUnlessOverwriteAndOverwriteClearsIt()
    {
        var dir = TempDir.Create();
        var run = RunFolder.CreateNew(dir, overwrite: false);
        run.CreateFolders();
        File.WriteAllText(run.Config, "{}");
        File.WriteAllText(run.LastCheckpoint, "old");

        var e = Assert.Throws<OptionException>(() => RunFolder.CreateNew(dir, overwrite: false));
        Assert.Equal("Output", e.Option);
        Assert.Contains("(resume)", e.Problem);
        Assert.Equal("old", File.ReadAllText(run.LastCheckpoint));

        RunFolder.CreateNew(dir, overwrite: true);
        Assert.False(File.Exists(run.LastCheckpoint));
        Assert.False(File.Exists(run.Config));
    }

    [Fact]
    public void NextFreeCountsUpLikeLightningVersions()
    {
        var root = TempDir.Create();
        Assert.Equal(Path.Combine(root, "aavae-cifar10-0"), RunFolder.NextFree(root, "aavae-cifar10"));
        Directory.CreateDirectory(Path.Combine(root, "aavae-cifar10-0"));
        Assert.Equal(Path.Combine(root, "aavae-cifar10-1"), RunFolder.NextFree(root, "aavae-cifar10"));
    }

    [Fact]
    public void ResumeOfAFolderWithoutCheckpointNamesIt()
    {
        var dir = TempDir.Create();
        var e = Assert.Throws<FileNotFoundException>(() => RunFolder.ResolveCheckpoint(dir));
        Assert.Contains(dir, e.Message);
    }
}

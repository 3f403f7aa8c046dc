using Aavae.Progress;
using Aavae.Checkpoints;
using Aavae.Training;
using Aavae.Runs;

namespace Aavae.Tests.Training;

public class InitFromTests(TinyRun tiny) : IClassFixture<TinyRun>
{
    [Fact]
    public void NewRunStartsFromTheCheckpointsWeights()
    {
        using var source = PretrainedWeights.Read(tiny.Checkpoint);
        var options = PretrainerTests.Tiny() with { InitFrom = tiny.Checkpoint, Seed = 99 };
        using var trainer = new Pretrainer(options, RunFolder.CreateNew(Path.Combine(TempDir.Create(), "init"), false), new SilentObserver());
        foreach (var (name, t) in trainer.Model.state_dict())
            Assert.True(t.eq(source.StateDict[name]).all().item<bool>(), $"{name} was not taken from the checkpoint");
    }

    [Fact]
    public void CheckpointOfAnotherWidthIsRefusedNamingAKey()
    {
        var options = PretrainerTests.Tiny() with { InitFrom = tiny.Checkpoint, Model = PretrainerTests.Tiny().Model with { Width = 8 } };
        var e = Assert.Throws<InvalidDataException>(() => new Pretrainer(options, RunFolder.CreateNew(Path.Combine(TempDir.Create(), "init"), false), new SilentObserver()));
        Assert.Contains(tiny.Checkpoint, e.Message);
        Assert.Contains("encoder.conv1.weight", e.Message);
    }
}

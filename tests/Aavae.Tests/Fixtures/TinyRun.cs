using Aavae.Progress;
using Aavae.Training;
using Aavae.Runs;

namespace Aavae.Tests;

/// <summary>A one-step pre-training run on the shipped Fashion-MNIST, made once per test class that asks for it.</summary>
public sealed class TinyRun
{
    private readonly Lazy<RunFolder> run = new(() =>
    {
        var folder = RunFolder.CreateNew(Path.Combine(TempDir.Create(), "tiny"), overwrite: false);
        using var trainer = new Pretrainer(Training.PretrainerTests.TinyWith(t => t with { MaxSteps = 1 }, m => m with { OnlineFt = false }), folder, new SilentObserver());
        trainer.Run();
        return folder;
    });

    public RunFolder Run => run.Value;

    public string Checkpoint => Run.LastCheckpoint;
}

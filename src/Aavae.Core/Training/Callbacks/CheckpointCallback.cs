using Aavae.Progress;
using Aavae.Checkpoints;
using Aavae.IO;
using Aavae.Embedding;
using Aavae.Runs;

namespace Aavae.Training.Callbacks;

/// <summary>
/// <c>last.ckpt</c> after every epoch and on Ctrl-C, and a numbered copy every
/// <c>checkpoint_every</c> epochs, each written whole or not at all.
/// </summary>
public sealed class CheckpointCallback(RunFolder run, PretrainModule module, OnlineProbe? probe, ITrainingObserver observer) : ITrainingCallback
{
    public void OnEpochEnd(EpochEnd epoch)
    {
        Save(epoch.Next);
        if (epoch.Completed && (epoch.Epoch + 1) % module.Options.Trainer.CheckpointEvery == 0)
        {
            var path = run.EpochCheckpoint(epoch.Epoch);
            AtomicFile.Write(path, s => { using var src = File.OpenRead(run.LastCheckpoint); src.CopyTo(s); });
            observer.OnMessage($"wrote {path}");
        }
    }

    public void OnInterrupted(TrainingPosition position)
    {
        Save(position);
        observer.OnMessage($"interrupted at epoch {position.Epoch}, step {position.GlobalStep}: wrote {run.LastCheckpoint}");
    }

    private void Save(TrainingPosition at) => TrainingCheckpoint.Save(run.LastCheckpoint, module.Options, at, module.Model, module.Optimizer, probe?.State, module.Scaler);
}

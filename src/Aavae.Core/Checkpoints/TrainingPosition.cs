namespace Aavae.Checkpoints;

/// <summary>Where a run stands: the next epoch and batch to train, and optimizer steps taken.</summary>
public sealed record TrainingPosition(int Epoch, int Batch, long GlobalStep);

using Aavae.Data;
using Aavae.Models;
using Aavae.Visualization;
using Aavae.Runs;

namespace Aavae.Training.Callbacks;

/// <summary>A picture per epoch of the first validation images: originals, the encoder's inputs, and their reconstructions.</summary>
public sealed class ReconstructionGrid(RunFolder run, AavaeModel model, Normalization normalization, int images = 8) : ITrainingCallback
{
    public void OnValidationBatchEnd(ValidationBatchEnd batch)
    {
        if (batch.Index != 0) return;
        int n = (int)Math.Min(images, batch.Views.X.shape[0]);
        var x = batch.Views.X[..n];
        ImageGrid.WritePng(run.ReconstructionPng(batch.Epoch), [batch.Views.Original[..n], x, model.Reconstruct(x)], normalization);
    }
}

using Aavae.Models;
using Aavae.Objectives;
using static TorchSharp.torch;

namespace Aavae.Training;

/// <summary>A step's loss to back-propagate and its metrics under the reference's names (without prefix).</summary>
public sealed record ObjectiveStep(Tensor Loss, IReadOnlyDictionary<string, double> Metrics);

/// <summary>The objective of a run: the (AA)VAE's of src/vae.py, or the AE baseline's MSE.</summary>
public interface IPretrainObjective
{
    ObjectiveStep Step(AavaeModel model, Tensor x, Tensor original, int samples);

    /// <summary>The decoder's picture of <paramref name="x"/>, from the posterior mean: what the PNG grids show.</summary>
    Tensor Reconstruct(AavaeModel model, Tensor x);

    public static IPretrainObjective For(PretrainOptions options) => options.Model.Kind == ModelKind.Ae
        ? new AePretrainObjective()
        : new VaePretrainObjective(new VaeObjective(options.KlCoeff));
}

internal sealed class VaePretrainObjective(VaeObjective objective) : IPretrainObjective
{
    public ObjectiveStep Step(AavaeModel model, Tensor x, Tensor original, int samples)
    {
        var step = objective.Step(model, x, original, samples);
        return new ObjectiveStep(step.Loss, step.Metrics.ToDictionary(""));
    }

    public Tensor Reconstruct(AavaeModel model, Tensor x) => model.Decoder.call(model.VaeHead.call(model.Encoder.call(x)).mu);
}

internal sealed class AePretrainObjective : IPretrainObjective
{
    private readonly AeObjective objective = new();

    public ObjectiveStep Step(AavaeModel model, Tensor x, Tensor original, int samples)
    {
        var step = objective.Step(model, x, original);
        return new ObjectiveStep(step.Loss, step.Metrics.ToDictionary(""));
    }

    public Tensor Reconstruct(AavaeModel model, Tensor x) => model.Decoder.call(model.AeHead.call(model.Encoder.call(x)));
}

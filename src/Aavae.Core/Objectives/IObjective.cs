using Aavae.Runtime;
using static TorchSharp.torch;

namespace Aavae.Objectives;

/// <summary>
/// A step's loss to back-propagate and its metrics under the reference's names (<c>kl</c>,
/// <c>elbo</c>, <c>bpd</c>, ...; no prefix), as tensors: reading one waits for the device, so the
/// trainer reads them once per log interval.
/// </summary>
public sealed record ObjectiveOutput(Tensor Loss, IReadOnlyDictionary<string, Tensor> Metrics)
{
    /// <summary>Every metric as a number: one wait for the device per metric.</summary>
    public Dictionary<string, double> Read() => Metrics.ToDictionary(kv => kv.Key, kv => ReadValue(kv.Value));

    public static double ReadValue(Tensor t) => t.dtype == ScalarType.Float64 ? t.item<double>() : t.item<float>();
}

/// <summary>What a step's loss is computed from, once the encoder has run.</summary>
/// <param name="Posterior">The view x's latent, with gradient.</param>
/// <param name="Target">The original image's latent, without gradient; null on a step that does not encode it (the loss never needs it, only the metrics comparing the two latents).</param>
/// <param name="X">The view the encoder saw.</param>
/// <param name="Original">The image the decoder must reconstruct.</param>
/// <param name="Samples">Posterior samples per image: 1 in training, val_samples in validation.</param>
public sealed record ObjectiveInput(Latent Posterior, Latent? Target, Tensor X, Tensor Original, int Samples);

/// <summary>The model's generative half, as the objective uses it.</summary>
public interface IDecoder
{
    /// <summary>z to a picture of normalised pixels.</summary>
    Tensor Decode(Tensor z);

    /// <summary>The log-variance of p(x|z); null for the AE.</summary>
    Tensor? LogScale { get; }
}

/// <summary>
/// The loss of the reference's step() once the latents exist: the (AA)VAE's of src/vae.py or the
/// AE's of src/ae.py. <see cref="Models.AavaeModel"/> computes the latents and calls it.
/// </summary>
public interface IObjective
{
    ObjectiveOutput Compute(ObjectiveInput input, IDecoder decoder);
}

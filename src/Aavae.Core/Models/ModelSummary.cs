using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Models;

/// <summary>Parameter count of one top-level component (encoder, projection, decoder, log_scale).</summary>
public sealed record ComponentSize(string Name, long Parameters);

/// <summary>What a model is made of and the shapes it maps between, measured by a forward pass.</summary>
public sealed record ModelSummary(
    ModelOptions Options, IReadOnlyList<ComponentSize> Components, long TotalParameters,
    long[] InputShape, long[] FeatureShape, long[] LatentShape, long[] ReconstructionShape)
{
    public static ModelSummary Measure(AavaeModel model, Device device, int batch = 2)
    {
        var components = model.named_children()
            .Select(c => new ComponentSize(c.name, c.module.parameters().Sum(p => p.numel())))
            .ToList();
        if (model.Options.Kind != ModelKind.Ae) components.Add(new ComponentSize("log_scale", 1));

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        model.eval();
        var o = model.Options;
        var x = randn(batch, 3, o.InputHeight, o.InputHeight, device: device);
        var h = model.Encoder.call(x);
        var z = model.Encode(x).Mean;
        var xHat = model.Decoder.call(z);
        return new ModelSummary(o, components, components.Sum(c => c.Parameters),
            x.shape, h.shape, z.shape, xHat.shape);
    }
}

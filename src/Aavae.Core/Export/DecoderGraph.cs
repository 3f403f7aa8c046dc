using Aavae.Models;

namespace Aavae.Export;

/// <summary>
/// The rest of a VAE as ONNX nodes, for <c>export --with-decoder</c>: the projection head's mean
/// (Linear, BatchNorm1d, Relu, the <c>mu</c> layer; an AE's projection is its latent), and the
/// <see cref="ResNetDecoder"/> in its forward's order: two Linear-Relu, a Reshape to (h/16, 4, 4), the
/// 1x1 conv, each stage's blocks (nearest resize, convolutions with bias, the resized 1x1 skip, Add,
/// Relu), the stem's extra x2 resizes, conv2 and the final convolution to normalised pixels.
/// </summary>
public static class DecoderGraph
{
    /// <returns>The latent mean's value name.</returns>
    public static string AddLatentMean(GraphBuilder g, ModelKind kind, string features) => kind == ModelKind.Ae
        ? g.Linear(g.Linear(features, "projection.projection_head.0", bn: "projection.projection_head.1", relu: true), "projection.projection_head.3")
        : g.Linear(g.Linear(features, "projection.first_layer.0", bn: "projection.first_layer.1", relu: true), "projection.mu");

    /// <returns>The reconstruction's value name: [batch, 3, H, W], normalised as the inputs are.</returns>
    public static string AddDecoder(GraphBuilder g, ResNetDecoder decoder, string z)
    {
        const string p = "decoder.";
        string x = g.Linear(g.Linear(z, $"{p}linear_projection1", relu: true), $"{p}linear_projection2", relu: true);
        long h = g.Weight($"{p}linear_projection2.weight").shape[0];
        x = g.Reshape(x, [-1, h / 16, 4, 4]);
        x = g.Conv(x, $"{p}conv1", stride: 1, relu: true);
        // Stage 1 resizes the 4x4 map to input / f (ResNetDecoder's Interpolate(size)); stages 2-4 double it.
        float first = decoder.InputHeight / decoder.Stem.UpscaleFactor() / 4f;
        for (int layer = 1; layer <= 4; layer++)
            for (int block = 0; g.Has($"{p}layer{layer}.{block}.conv1.weight"); block++)
                x = Block(g, $"{p}layer{layer}.{block}", x, decoder.Spec.Block, block == 0 ? (layer == 1 ? first : 2f) : null);
        if (!decoder.Stem.RemoveFirstMaxPool()) x = g.ResizeNearest(x, 2f);
        x = g.Conv(x, $"{p}conv2", stride: 1, relu: true);
        if (!decoder.Stem.FirstConv3x3()) x = g.ResizeNearest(x, 2f);
        return g.Conv(x, $"{p}final_conv", stride: 1);
    }

    /// <param name="scale">The first block's resize (DecoderBasicBlock: before conv1; DecoderBottleneck: between conv1 and conv2); null: none.</param>
    private static string Block(GraphBuilder g, string p, string x, BlockKind kind, float? scale)
    {
        string Up(string v) => scale is float s ? g.ResizeNearest(v, s) : v;
        string y = kind == BlockKind.Basic
            ? g.Conv(g.Conv(Up(x), $"{p}.conv1", 1, relu: true), $"{p}.conv2", 1)
            : g.Conv(g.Conv(Up(g.Conv(x, $"{p}.conv1", 1, relu: true)), $"{p}.conv2", 1, relu: true), $"{p}.conv3", 1);
        string identity = g.Has($"{p}.upsample.1.weight") ? g.Conv(Up(x), $"{p}.upsample.1", 1) : x;
        return g.Node("Relu", [g.Node("Add", [y, identity])]);
    }
}

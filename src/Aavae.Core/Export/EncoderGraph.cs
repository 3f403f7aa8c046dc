using Aavae.Models;

namespace Aavae.Export;

/// <summary>
/// A frozen <see cref="ResNetEncoder"/>'s nodes, in the order its forward runs: the stem (Conv,
/// BatchNormalization, Relu, MaxPool for the ImageNet stem), each block (Conv-BN-Relu ..., the
/// downsample branch, Add, Relu), GlobalAveragePool and Flatten to the pooled features.
/// </summary>
public static class EncoderGraph
{
    /// <param name="p">The encoder's key prefix in the graph's weights: "" for an encoder's own state dict, "encoder." for a model's.</param>
    /// <returns>The features' value name.</returns>
    public static string Add(GraphBuilder g, ResNetEncoder encoder, string p, string input, string output = "features")
    {
        // The stem's 7x7 convolution strides 2 (the ImageNet and STL-10 stems); the CIFAR stem's 3x3 does not.
        string h = g.Conv(input, $"{p}conv1", stride: encoder.Stem.FirstConv3x3() ? 1 : 2, bn: $"{p}bn1", relu: true);
        if (!encoder.Stem.RemoveFirstMaxPool())
            h = g.Node("MaxPool", [h], a => a.Ints("kernel_shape", 3, 3).Ints("strides", 2, 2).Ints("pads", 1, 1, 1, 1));
        for (int layer = 1; layer <= 4; layer++)
            for (int block = 0; g.Has($"{p}layer{layer}.{block}.conv1.weight"); block++)
                h = Block(g, $"{p}layer{layer}.{block}", h, encoder.Spec.Block, stride: layer > 1 && block == 0 ? 2 : 1);
        h = g.Node("GlobalAveragePool", [h]);
        return g.Node("Flatten", [h], a => a.Int("axis", 1), output);
    }

    /// <param name="stride">2 for the first block of layers 2-4 (ResNetEncoder.MakeLayer); a Bottleneck strides in its 3x3.</param>
    private static string Block(GraphBuilder g, string p, string x, BlockKind kind, long stride)
    {
        string y = kind == BlockKind.Basic
            ? g.Conv(g.Conv(x, $"{p}.conv1", stride, $"{p}.bn1", relu: true), $"{p}.conv2", 1, $"{p}.bn2")
            : g.Conv(g.Conv(g.Conv(x, $"{p}.conv1", 1, $"{p}.bn1", relu: true), $"{p}.conv2", stride, $"{p}.bn2", relu: true), $"{p}.conv3", 1, $"{p}.bn3");
        string identity = g.Has($"{p}.downsample.0.weight") ? g.Conv(x, $"{p}.downsample.0", stride, $"{p}.downsample.1") : x;
        return g.Node("Relu", [g.Node("Add", [y, identity])]);
    }
}

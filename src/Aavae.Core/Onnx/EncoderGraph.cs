using System.Runtime.InteropServices;
using Aavae.Models;
using TorchSharp;
using static Aavae.Onnx.OnnxFields;
using static TorchSharp.torch;

namespace Aavae.Onnx;

/// <summary>
/// A frozen <see cref="ResNetEncoder"/> as an ONNX graph (opset 17), built from its module tree in the
/// order its forward runs: the stem (Conv, BatchNormalization, Relu, MaxPool for the ImageNet stem),
/// each block (Conv-BN-Relu ..., the downsample branch, Add, Relu), GlobalAveragePool and Flatten.
/// Input <c>input</c> [batch, 3, H, W] (batch dynamic), output <c>features</c> [batch, h].
/// Folded (the default of the export) each BatchNorm's running statistics are folded into the
/// convolution before it (W * gamma / sqrt(var + eps), beta - mean * gamma / sqrt(var + eps), in
/// float64), which is what evaluation-mode BatchNorm computes, in one node instead of two.
/// </summary>
public sealed class EncoderGraph
{
    private readonly List<OnnxMessage> nodes = [];
    private readonly List<OnnxMessage> initializers = [];
    private readonly Dictionary<string, Tensor> weights;
    private readonly bool fold;
    private int count;

    private EncoderGraph(ResNetEncoder encoder, bool foldBatchNorm)
    {
        weights = encoder.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
        fold = foldBatchNorm;
    }

    public static OnnxMessage Build(ResNetEncoder encoder, int inputHeight, bool foldBatchNorm)
    {
        var g = new EncoderGraph(encoder, foldBatchNorm);
        string h = g.ConvBn("input", "conv1", "bn1", relu: true);
        if (!encoder.Stem.RemoveFirstMaxPool())
            h = g.Node("MaxPool", [h], a => a.Ints("kernel_shape", 3, 3).Ints("strides", 2, 2).Ints("pads", 1, 1, 1, 1));
        for (int layer = 1; layer <= 4; layer++)
            for (int block = 0; g.weights.ContainsKey($"layer{layer}.{block}.conv1.weight"); block++)
                h = g.Block($"layer{layer}.{block}", h, encoder.Spec.Block, stride: layer > 1 && block == 0 ? 2 : 1);
        h = g.Node("GlobalAveragePool", [h]);
        h = g.Node("Flatten", [h], a => a.Int("axis", 1), output: "features");

        var graph = new OnnxMessage().String(GraphName, $"aavae_{encoder.Spec.Name}_encoder");
        foreach (var n in g.nodes) graph.Message(GraphNode, n);
        foreach (var t in g.initializers) graph.Message(GraphInitializer, t);
        graph.Message(GraphInput, ValueInfo("input", [null, 3, inputHeight, inputHeight]));
        graph.Message(GraphOutput, ValueInfo("features", [null, encoder.FeatureDim]));
        return graph;
    }

    /// <param name="stride">2 for the first block of layers 2-4 (ResNetEncoder.MakeLayer); a Bottleneck strides in its 3x3.</param>
    private string Block(string p, string x, BlockKind kind, long stride)
    {
        bool downsample = weights.ContainsKey($"{p}.downsample.0.weight");
        string y = kind == BlockKind.Basic
            ? ConvBn(ConvBn(x, $"{p}.conv1", $"{p}.bn1", relu: true, stride), $"{p}.conv2", $"{p}.bn2", relu: false)
            : ConvBn(ConvBn(ConvBn(x, $"{p}.conv1", $"{p}.bn1", relu: true), $"{p}.conv2", $"{p}.bn2", relu: true, stride), $"{p}.conv3", $"{p}.bn3", relu: false);
        string identity = downsample ? ConvBn(x, $"{p}.downsample.0", $"{p}.downsample.1", relu: false, stride) : x;
        return Node("Relu", [Node("Add", [y, identity])]);
    }

    private string ConvBn(string x, string conv, string bn, bool relu, long stride = -1)
    {
        var w = weights[$"{conv}.weight"];
        long k = w.shape[2];
        // The stem's 7x7 convolution strides 2 (the ImageNet and STL-10 stems); 3x3 and 1x1 take the block's stride.
        if (stride < 0) stride = k == 7 ? 2 : 1;
        long pad = k / 2;
        void Attributes(Attributes a) => a.Ints("kernel_shape", k, k).Ints("strides", stride, stride).Ints("pads", pad, pad, pad, pad).Ints("dilations", 1, 1).Int("group", 1);
        string y;
        if (fold)
        {
            using var scope = NewDisposeScope();
            using var eps = 1e-5.ToScalar();
            var scale = weights[$"{bn}.weight"].to_type(ScalarType.Float64) / weights[$"{bn}.running_var"].to_type(ScalarType.Float64).add(eps, Aavae.Runtime.Scalars.One).sqrt();
            var folded = (w.to_type(ScalarType.Float64) * scale.view(-1, 1, 1, 1)).to_type(ScalarType.Float32);
            var bias = (weights[$"{bn}.bias"].to_type(ScalarType.Float64) - weights[$"{bn}.running_mean"].to_type(ScalarType.Float64) * scale).to_type(ScalarType.Float32);
            y = Node("Conv", [x, Initializer($"{conv}.weight", folded), Initializer($"{conv}.bias", bias)], Attributes);
        }
        else
        {
            y = Node("Conv", [x, Initializer($"{conv}.weight", w)], Attributes);
            y = Node("BatchNormalization",
                [y, Initializer($"{bn}.weight", weights[$"{bn}.weight"]), Initializer($"{bn}.bias", weights[$"{bn}.bias"]),
                    Initializer($"{bn}.running_mean", weights[$"{bn}.running_mean"]), Initializer($"{bn}.running_var", weights[$"{bn}.running_var"])],
                a => a.Float("epsilon", 1e-5f));
        }
        return relu ? Node("Relu", [y]) : y;
    }

    private string Node(string op, string[] inputs, Action<Attributes>? attributes = null, string? output = null)
    {
        output ??= $"{op.ToLowerInvariant()}_{count++}";
        var node = new OnnxMessage();
        foreach (var i in inputs) node.String(NodeInput, i);
        node.String(NodeOutput, output).String(NodeName, output).String(NodeOpType, op);
        var a = new Attributes(node);
        attributes?.Invoke(a);
        nodes.Add(node);
        return output;
    }

    /// <summary>A float32 initializer named as the reference's state_dict key, little-endian raw data.</summary>
    private string Initializer(string name, Tensor t)
    {
        using var c = t.detach().cpu().to_type(ScalarType.Float32).contiguous();
        var data = c.data<float>().ToArray();
        var tensor = new OnnxMessage();
        foreach (var d in c.shape) tensor.Int(TensorDims, d);
        tensor.Int(TensorDataType, DataTypeFloat).String(TensorName, name).Bytes(TensorRawData, MemoryMarshal.AsBytes(data.AsSpan()));
        initializers.Add(tensor);
        return name;
    }

    /// <param name="dims">Null: a dynamic dimension named <c>batch</c>.</param>
    private static OnnxMessage ValueInfo(string name, long?[] dims)
    {
        var shape = new OnnxMessage();
        foreach (var d in dims)
            shape.Message(ShapeDim, d is long v ? new OnnxMessage().Int(DimValue, v) : new OnnxMessage().String(DimParam, "batch"));
        var tensorType = new OnnxMessage().Int(TensorTypeElemType, DataTypeFloat).Message(TensorTypeShape, shape);
        return new OnnxMessage().String(ValueInfoName, name).Message(ValueInfoType, new OnnxMessage().Message(TypeTensor, tensorType));
    }

    /// <summary>A node's attributes, written as AttributeProto messages.</summary>
    public sealed class Attributes(OnnxMessage node)
    {
        public Attributes Int(string name, long value)
        {
            node.Message(NodeAttribute, new OnnxMessage().String(AttributeName, name).Int(AttributeI, value).Int(AttributeType, AttributeTypeInt));
            return this;
        }

        public Attributes Float(string name, float value)
        {
            node.Message(NodeAttribute, new OnnxMessage().String(AttributeName, name).Float(AttributeF, value).Int(AttributeType, AttributeTypeFloat));
            return this;
        }

        public Attributes Ints(string name, params long[] values)
        {
            var a = new OnnxMessage().String(AttributeName, name);
            foreach (var v in values) a.Int(AttributeInts, v);
            node.Message(NodeAttribute, a.Int(AttributeType, AttributeTypeInts));
            return this;
        }
    }
}

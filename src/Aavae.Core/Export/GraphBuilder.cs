using System.Runtime.InteropServices;
using TorchSharp;
using static Aavae.Export.OnnxFields;
using static TorchSharp.torch;

namespace Aavae.Export;

/// <summary>
/// Nodes and initializers of an ONNX graph, added in the order the network's forward runs, with the
/// weights taken from a state dict by their reference names (which the initializers keep). Folded
/// (the export's default) a BatchNorm's running statistics are folded into the convolution or linear
/// layer before it (W * gamma / sqrt(var + eps), beta + (b - mean) * gamma / sqrt(var + eps), in
/// float64), which is what evaluation-mode BatchNorm computes, in one node instead of two.
/// </summary>
public sealed class GraphBuilder(IReadOnlyDictionary<string, Tensor> weights, bool foldBatchNorm)
{
    private const float BatchNormEps = 1e-5f;
    private readonly List<OnnxMessage> nodes = [];
    private readonly List<OnnxMessage> initializers = [];
    private int count;

    public bool Has(string key) => weights.ContainsKey(key);

    public Tensor Weight(string key) => weights[key];

    /// <summary>A convolution with "same" padding (k / 2), its BatchNorm when <paramref name="bn"/> is named, and a Relu if asked.</summary>
    public string Conv(string x, string conv, long stride, string? bn = null, bool relu = false)
    {
        long k = weights[$"{conv}.weight"].shape[2], pad = k / 2;
        return Layer("Conv", x, conv, bn, relu,
            a => a.Ints("kernel_shape", k, k).Ints("strides", stride, stride).Ints("pads", pad, pad, pad, pad).Ints("dilations", 1, 1).Int("group", 1));
    }

    /// <summary>A linear layer (Gemm: x W^T + b), its BatchNorm1d when <paramref name="bn"/> is named, and a Relu if asked.</summary>
    public string Linear(string x, string linear, string? bn = null, bool relu = false) =>
        Layer("Gemm", x, linear, bn, relu, a => a.Int("transB", 1));

    /// <summary>A layer with a weight and an optional bias, the BatchNorm after it folded in or kept as a node, then a Relu if asked.</summary>
    private string Layer(string op, string x, string layer, string? bn, bool relu, Action<Attributes> attributes)
    {
        var w = weights[$"{layer}.weight"];
        weights.TryGetValue($"{layer}.bias", out var b);
        string y;
        if (bn is not null && foldBatchNorm)
        {
            var (folded, bias) = Fold(w, b, bn);
            y = Node(op, [x, Initializer($"{layer}.weight", folded), Initializer($"{layer}.bias", bias)], attributes);
            folded.Dispose();
            bias.Dispose();
        }
        else
        {
            y = Node(op, b is null ? [x, Initializer($"{layer}.weight", w)] : [x, Initializer($"{layer}.weight", w), Initializer($"{layer}.bias", b)], attributes);
            if (bn is not null) y = BatchNormalization(y, bn);
        }
        return relu ? Node("Relu", [y]) : y;
    }

    private string BatchNormalization(string x, string bn) =>
        Node("BatchNormalization",
            [x, Initializer($"{bn}.weight", weights[$"{bn}.weight"]), Initializer($"{bn}.bias", weights[$"{bn}.bias"]),
                Initializer($"{bn}.running_mean", weights[$"{bn}.running_mean"]), Initializer($"{bn}.running_var", weights[$"{bn}.running_var"])],
            a => a.Float("epsilon", BatchNormEps));

    /// <summary>The layer's weight and bias with the BatchNorm after it folded in, per output channel, in float64.</summary>
    private (Tensor Weight, Tensor Bias) Fold(Tensor w, Tensor? b, string bn) =>
        Models.BatchNormFolding.Fold(w, b, weights[$"{bn}.weight"], weights[$"{bn}.bias"],
            weights[$"{bn}.running_mean"], weights[$"{bn}.running_var"], BatchNormEps, ScalarType.Float32);

    /// <summary>Nearest-neighbour resize by <paramref name="scale"/> in height and width, as PyTorch's <c>interpolate(mode='nearest')</c>
    /// picks its source pixels: floor(destination / scale) (asymmetric coordinates, floor).</summary>
    public string ResizeNearest(string x, float scale) =>
        Node("Resize", [x, "", Constant([1f, 1f, scale, scale])],
            a => a.String("mode", "nearest").String("coordinate_transformation_mode", "asymmetric").String("nearest_mode", "floor"));

    public string Reshape(string x, long[] shape) => Node("Reshape", [x, Constant(shape)]);

    public string Node(string op, string[] inputs, Action<Attributes>? attributes = null, string? output = null)
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
        return Initializer(name, c.shape, DataTypeFloat, MemoryMarshal.AsBytes(data.AsSpan()));
    }

    private string Constant(float[] values) => Initializer($"const_{count++}", [values.Length], DataTypeFloat, MemoryMarshal.AsBytes(values.AsSpan()));

    private string Constant(long[] values) => Initializer($"const_{count++}", [values.Length], DataTypeInt64, MemoryMarshal.AsBytes(values.AsSpan()));

    private string Initializer(string name, long[] dims, int dataType, ReadOnlySpan<byte> raw)
    {
        var tensor = new OnnxMessage();
        foreach (var d in dims) tensor.Int(TensorDims, d);
        tensor.Int(TensorDataType, dataType).String(TensorName, name).Bytes(TensorRawData, raw);
        initializers.Add(tensor);
        return name;
    }

    /// <summary>The GraphProto: its nodes, initializers, and float32 inputs and outputs (null dimensions: the dynamic <c>batch</c>).</summary>
    public OnnxMessage ToGraph(string name, IEnumerable<(string Name, long?[] Dims)> inputs, IEnumerable<(string Name, long?[] Dims)> outputs)
    {
        var graph = new OnnxMessage().String(GraphName, name);
        foreach (var n in nodes) graph.Message(GraphNode, n);
        foreach (var t in initializers) graph.Message(GraphInitializer, t);
        foreach (var (n, d) in inputs) graph.Message(GraphInput, ValueInfo(n, d));
        foreach (var (n, d) in outputs) graph.Message(GraphOutput, ValueInfo(n, d));
        return graph;
    }

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

        public Attributes String(string name, string value)
        {
            node.Message(NodeAttribute, new OnnxMessage().String(AttributeName, name).Bytes(AttributeS, System.Text.Encoding.UTF8.GetBytes(value)).Int(AttributeType, AttributeTypeString));
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

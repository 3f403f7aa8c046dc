using Google.Protobuf;

namespace Aavae.Export;

/// <summary>
/// The few messages of onnx.proto an encoder needs (ModelProto, GraphProto, NodeProto,
/// AttributeProto, TensorProto, ValueInfoProto and the type and shape messages under it), written
/// field by field with Google.Protobuf's wire-format writer. The field numbers are onnx.proto's;
/// each message is built as bytes and embedded length-delimited in its parent.
/// </summary>
public sealed class OnnxMessage
{
    private readonly MemoryStream buffer = new();
    private readonly CodedOutputStream output;

    public OnnxMessage() => output = new CodedOutputStream(buffer, leaveOpen: true);

    public OnnxMessage Int(int field, long value)
    {
        output.WriteTag(field, WireFormat.WireType.Varint);
        output.WriteInt64(value);
        return this;
    }

    public OnnxMessage Float(int field, float value)
    {
        output.WriteTag(field, WireFormat.WireType.Fixed32);
        output.WriteFloat(value);
        return this;
    }

    public OnnxMessage String(int field, string value)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteString(value);
        return this;
    }

    public OnnxMessage Bytes(int field, ReadOnlySpan<byte> value)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(value));
        return this;
    }

    public OnnxMessage Message(int field, OnnxMessage message) => Bytes(field, message.ToBytes());

    public byte[] ToBytes()
    {
        output.Flush();
        return buffer.ToArray();
    }
}

/// <summary>onnx.proto's field numbers and enum values used here.</summary>
public static class OnnxFields
{
    // ModelProto
    public const int ModelIrVersion = 1, ModelProducerName = 2, ModelProducerVersion = 3, ModelDocString = 6, ModelGraph = 7, ModelOpsetImport = 8, ModelMetadata = 14;
    // OperatorSetIdProto
    public const int OpsetDomain = 1, OpsetVersion = 2;
    // GraphProto
    public const int GraphNode = 1, GraphName = 2, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12;
    // NodeProto
    public const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4, NodeAttribute = 5;
    // AttributeProto
    public const int AttributeName = 1, AttributeF = 2, AttributeI = 3, AttributeS = 4, AttributeInts = 8, AttributeType = 20;
    public const int AttributeTypeFloat = 1, AttributeTypeInt = 2, AttributeTypeString = 3, AttributeTypeInts = 7;
    // TensorProto
    public const int TensorDims = 1, TensorDataType = 2, TensorName = 8, TensorRawData = 9;
    public const int DataTypeFloat = 1, DataTypeInt64 = 7;
    // ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto, its Dimension
    public const int ValueInfoName = 1, ValueInfoType = 2, TypeTensor = 1, TensorTypeElemType = 1, TensorTypeShape = 2, ShapeDim = 1, DimValue = 1, DimParam = 2;
    // StringStringEntryProto
    public const int EntryKey = 1, EntryValue = 2;
}

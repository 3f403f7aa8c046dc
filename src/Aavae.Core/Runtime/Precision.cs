using System.Text.Json.Serialization;
using Aavae.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Runtime;

/// <summary>The numeric precision of training and inference, in PyTorch Lightning's names.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Precision>))]
public enum Precision
{
    /// <summary>float32 throughout (Lightning's <c>32-true</c>, <c>32</c>).</summary>
    [JsonStringEnumMemberName("32-true"), SettingName("32-true", "32")] Full32,
    /// <summary>
    /// Convolutions in bfloat16 on float32 master weights; optimizer state, BatchNorm statistics,
    /// the objective and the features stay float32 (Lightning's <c>bf16-mixed</c>).
    /// </summary>
    [JsonStringEnumMemberName("bf16-mixed"), SettingName("bf16-mixed", "bf16")] Bf16Mixed,
    /// <summary>float16 convolutions with a gradient scaler (Lightning's <c>16-mixed</c>, the reference's <c>--fp16</c>): CUDA only.</summary>
    [JsonStringEnumMemberName("16-mixed"), SettingName("16-mixed", "16")] Fp16Mixed,
    /// <summary>
    /// bf16-mixed on a CPU where bfloat16 convolutions outrun float32 ones (<see cref="CpuInfo.Bf16IsFaster"/>:
    /// AMX, or AMD's AVX512-BF16), float32 on other CPUs and on CUDA (the reference's own precision there). Made concrete by <see cref="Precisions.On(Precision, Device)"/>
    /// when a run or an encoder is set up; a run's configuration records what it was made.
    /// </summary>
    [JsonStringEnumMemberName("auto"), SettingName("auto")] Auto,
}

public static class Precisions
{
    /// <summary>Lightning's spellings: 32, 32-true, bf16-mixed (bf16), 16-mixed (16).</summary>
    public static Precision Parse(string text) => SettingValues.Parse<Precision>(text, nameof(Precision));

    public static string Name(this Precision precision) => SettingValues.Name(precision);

    /// <summary>The type convolutions compute in; null for float32 (the parameters' own type).</summary>
    public static ScalarType? ComputeType(this Precision precision) => precision switch
    {
        Precision.Bf16Mixed => ScalarType.BFloat16,
        Precision.Fp16Mixed => ScalarType.Float16,
        Precision.Auto => throw new InvalidOperationException("precision auto has no compute type until On(device) makes it concrete"),
        _ => null,
    };

    /// <summary>The precision computed in on <paramref name="device"/>: <see cref="Precision.Auto"/> made concrete for this CPU, the others as they are.</summary>
    public static Precision On(this Precision precision, Device device) => precision.On(device.type, CpuInfo.Bf16IsFaster);

    /// <summary><see cref="Precision.Auto"/> for a device kind and whether bfloat16 convolutions outrun float32 ones on the CPU.</summary>
    public static Precision On(this Precision precision, DeviceType device, bool bf16Faster) =>
        precision != Precision.Auto ? precision
        : device == DeviceType.CPU && bf16Faster ? Precision.Bf16Mixed
        : Precision.Full32;
}

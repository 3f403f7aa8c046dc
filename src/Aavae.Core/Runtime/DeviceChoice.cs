using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aavae.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Runtime;

public enum DeviceKind { Auto, Cpu, Cuda }

/// <summary>
/// Where a run computes, as torch spells it: <c>auto</c> (CUDA when available), <c>cpu</c>,
/// <c>cuda</c> or <c>cuda:N</c>. Parsing checks the spelling; <see cref="Resolve()"/> checks that the
/// device exists.
/// </summary>
[JsonConverter(typeof(DeviceChoiceJsonConverter))]
public readonly record struct DeviceChoice(DeviceKind Kind, int? Index = null)
{
    public static DeviceChoice Auto { get; } = new(DeviceKind.Auto);
    public static DeviceChoice Cpu { get; } = new(DeviceKind.Cpu);
    public static DeviceChoice Cuda { get; } = new(DeviceKind.Cuda);

    public static DeviceChoice Parse(string choice)
    {
        var c = choice.Trim().ToLowerInvariant();
        if (c == "auto") return Auto;
        if (c == "cpu") return Cpu;
        if (c == "cuda") return Cuda;
        if (c.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(c[5..], NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            return new DeviceChoice(DeviceKind.Cuda, index);
        throw new OptionException("Device", $"{choice}: expected auto, cpu, cuda or cuda:N");
    }

    public override string ToString() => Kind switch
    {
        DeviceKind.Auto => "auto",
        DeviceKind.Cpu => "cpu",
        _ => Index is int i ? $"cuda:{i}" : "cuda",
    };

    /// <summary>The TorchSharp device; a CUDA choice on a machine (or build) without CUDA is refused.</summary>
    public Device Resolve()
    {
        TorchRuntime.EnsureLoaded();
        if (Kind == DeviceKind.Auto) return cuda.is_available() ? CUDA : CPU;
        if (Kind == DeviceKind.Cpu) return CPU;
        if (!cuda.is_available())
            throw new OptionException("Device",
                $"{this}: CUDA is not available. This build uses the CPU libtorch; rebuild with -p:TorchBackend=cuda on a machine with an NVIDIA driver, or use the CPU");
        return new Device(ToString());
    }

    /// <summary>
    /// The device of the <paramref name="localRank"/>-th data-parallel process on a machine: one
    /// GPU each (cuda:localRank) when the choice names no GPU, as Lightning's DDP assigns them.
    /// </summary>
    public DeviceChoice ForProcess(int localRank, int localSize)
    {
        if (localSize <= 1 || Index is not null || Kind == DeviceKind.Cpu) return this;
        if (Kind == DeviceKind.Auto && !cuda.is_available()) return Cpu;
        return new DeviceChoice(DeviceKind.Cuda, localRank);
    }

    /// <summary>
    /// Lightning's <c>--gpus N</c> in a job of <paramref name="processes"/> processes: 0 is the CPU, 1 a
    /// GPU, N &gt; 1 one process per GPU (as Lightning's DDP), which an MPI launcher must have started.
    /// </summary>
    public static DeviceChoice ForGpus(int gpus, int processes) => gpus switch
    {
        0 => Cpu,
        1 => Cuda,
        < 0 => throw new OptionException("Gpus", $"must be >= 0, got {gpus}"),
        _ when processes == gpus => Cuda,
        _ when processes == 1 => throw new OptionException("Gpus", $"{gpus}: start one process per GPU with an MPI launcher: mpirun -np {gpus} aavae pretrain ... --gpus {gpus}"),
        _ => throw new OptionException("Gpus", $"{gpus} does not match the {processes} processes the launcher started"),
    };

    /// <summary>Parses and resolves a choice typed as text.</summary>
    public static Device Resolve(string choice) => Parse(choice).Resolve();
}

/// <summary>A device choice in a run's JSON configuration: its text, <c>auto</c>, <c>cpu</c>, <c>cuda:1</c>.</summary>
public sealed class DeviceChoiceJsonConverter : JsonConverter<DeviceChoice>
{
    public override DeviceChoice Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DeviceChoice.Parse(reader.GetString() ?? throw new JsonException("a device was expected"));

    public override void Write(Utf8JsonWriter writer, DeviceChoice value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}

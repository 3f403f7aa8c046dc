using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aavae.IO;

/// <summary>The JSON of run configurations: the reference's snake_case names, enums as lower-case words.</summary>
public static class SnakeCaseJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };
}

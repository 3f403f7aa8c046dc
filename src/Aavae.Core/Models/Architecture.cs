namespace Aavae.Models;

public enum BlockKind { Basic, Bottleneck }

/// <summary>An encoder of the reference: block type, blocks per stage, and width multiplier.</summary>
public sealed record EncoderSpec(string Name, BlockKind Block, int[] Layers, int Widen)
{
    public int Expansion => Block == BlockKind.Basic ? 1 : 4;

    /// <summary>Feature size h after global pooling: 8 * width * widen * expansion (512 / 2048 at width 64).</summary>
    public int FeatureDim(int width) => 8 * width * Widen * Expansion;
}

/// <summary>A decoder of the reference. Block counts mirror the encoder's in reverse order.</summary>
public sealed record DecoderSpec(string Name, BlockKind Block, int[] Layers, int Widen)
{
    public int Expansion => Block == BlockKind.Basic ? 1 : 4;
}

/// <summary>The named architectures, spelled as in the reference's ENCODERS / DECODERS tables.</summary>
public static class Architecture
{
    public static readonly IReadOnlyDictionary<string, EncoderSpec> Encoders = new[]
    {
        new EncoderSpec("resnet18", BlockKind.Basic, [2, 2, 2, 2], 1),
        new EncoderSpec("resnet34", BlockKind.Basic, [3, 4, 6, 3], 1),
        new EncoderSpec("resnet50", BlockKind.Bottleneck, [3, 4, 6, 3], 1),
        new EncoderSpec("resnet50w2", BlockKind.Bottleneck, [3, 4, 6, 3], 2),
        new EncoderSpec("resnet50w4", BlockKind.Bottleneck, [3, 4, 6, 3], 4),
    }.ToDictionary(s => s.Name);

    public static readonly IReadOnlyDictionary<string, DecoderSpec> Decoders = new[]
    {
        new DecoderSpec("decoder18", BlockKind.Basic, [2, 2, 2, 2], 1),
        new DecoderSpec("decoder34", BlockKind.Basic, [3, 6, 4, 3], 1),
        new DecoderSpec("decoder50", BlockKind.Bottleneck, [3, 6, 4, 3], 1),
        new DecoderSpec("decoder50w2", BlockKind.Bottleneck, [3, 6, 4, 3], 2),
        new DecoderSpec("decoder50w4", BlockKind.Bottleneck, [3, 6, 4, 3], 4),
    }.ToDictionary(s => s.Name);

    public static EncoderSpec Encoder(string name) =>
        Encoders.TryGetValue(name, out var spec) ? spec
            : throw new ArgumentException($"unknown encoder '{name}': expected one of {string.Join(", ", Encoders.Keys)}");

    public static DecoderSpec Decoder(string name) =>
        Decoders.TryGetValue(name, out var spec) ? spec
            : throw new ArgumentException($"unknown decoder '{name}': expected one of {string.Join(", ", Decoders.Keys)}");

    /// <summary>The decoder the reference pairs with an encoder (resnet50w2 -> decoder50w2).</summary>
    public static string MatchingDecoder(string encoder) => Encoder(encoder).Name.Replace("resnet", "decoder");
}

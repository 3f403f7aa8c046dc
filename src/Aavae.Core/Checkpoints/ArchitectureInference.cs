using System.Collections;
using Aavae.Models;
using static TorchSharp.torch;

namespace Aavae.Checkpoints;

/// <summary>
/// Works out which AAVAE networks a state_dict belongs to from its tensors' names and shapes:
/// block type and blocks per stage from the <c>encoder.layerN.i.</c> keys, width from
/// <c>encoder.conv1.weight</c> (and the decoder's <c>conv2</c>), stem from the first kernel,
/// latent size from the projection head. The Lightning <c>hyper_parameters</c>, when present,
/// settle what shapes cannot (resnet50w2 at width 64 has resnet50's shapes at width 128).
/// </summary>
public static class ArchitectureInference
{
    /// <param name="stateDict">Full names: <c>encoder.*</c>, <c>projection.*</c>, <c>decoder.*</c>.</param>
    /// <param name="hyperParameters">Lightning's hyper_parameters, or null.</param>
    /// <param name="inputHeight">Image size when the caller knows it (from the data set), unless the hyper-parameters record one.</param>
    /// <param name="imageNetStem">With a 7x7 first conv, whether the stem has ImageNet's max-pool (unknowable from weights).</param>
    public static ModelOptions Infer(IReadOnlyDictionary<string, Tensor> stateDict, IDictionary? hyperParameters, string what,
        int? inputHeight = null, bool? imageNetStem = null)
    {
        if (!stateDict.TryGetValue("encoder.conv1.weight", out var conv1) || conv1.dim() != 4)
            throw new InvalidDataException($"{what}: no encoder.conv1.weight: not an AAVAE / ResNet state_dict (keys start with: {string.Join(", ", stateDict.Keys.Take(3))})");

        long planes = conv1.shape[0];
        var block = stateDict.ContainsKey("encoder.layer1.0.conv3.weight") ? BlockKind.Bottleneck : BlockKind.Basic;
        var layers = Enumerable.Range(1, 4).Select(n => CountBlocks(stateDict, $"encoder.layer{n}.")).ToArray();
        var candidates = Architecture.Encoders.Values.Where(e => e.Block == block && e.Layers.SequenceEqual(layers) && planes % e.Widen == 0).ToList();
        if (candidates.Count == 0)
            throw new InvalidDataException($"{what}: encoder shapes fit no known architecture ({block} blocks, layers [{string.Join(", ", layers)}], {planes} stem channels)");

        string? namedEncoder = Get<string>(hyperParameters, "encoder_name");
        int? decoderWidth = stateDict.TryGetValue("decoder.conv2.weight", out var dconv2) ? (int)dconv2.shape[0] : null;
        var encoder = candidates.FirstOrDefault(e => e.Name == namedEncoder)
            ?? candidates.FirstOrDefault(e => decoderWidth is int w && planes == (long)w * e.Widen)
            ?? candidates.FirstOrDefault(e => planes == 64L * e.Widen)
            ?? candidates.First(e => e.Widen == 1);
        int width = (int)(planes / encoder.Widen);

        Stem stem;
        int kernel = (int)conv1.shape[2];
        if (kernel == 3) stem = Stem.Cifar;
        else if (kernel == 7)
        {
            bool maxpool = imageNetStem
                ?? (Get<object>(hyperParameters, "remove_first_maxpool") is { } r ? !Convert.ToBoolean(r) : inputHeight is >= 128);
            stem = maxpool ? Stem.ImageNet : Stem.Stl10;
        }
        else throw new InvalidDataException($"{what}: encoder.conv1.weight has a {kernel}x{kernel} kernel; expected 3x3 or 7x7");

        // What the checkpoint records wins over the caller's guess, so a mismatch can be reported.
        int height = Get<object>(hyperParameters, "input_height") is { } h ? Convert.ToInt32(h) : inputHeight ?? stem switch
        {
            Stem.Cifar => 32,
            Stem.Stl10 => 96,
            _ => 224,
        };

        var kind = ModelKind.Aavae;
        int latent = 128;
        if (stateDict.TryGetValue("projection.mu.weight", out var mu))
        {
            latent = (int)mu.shape[0];
            if (Get<object>(hyperParameters, "kl_coeff") is { } kl && Convert.ToDouble(kl) > 0 && Get<object>(hyperParameters, "denoising") is false)
                kind = ModelKind.Vae;
        }
        else if (stateDict.Keys.FirstOrDefault(k => k.StartsWith("projection.projection_head.", StringComparison.Ordinal) && k.EndsWith(".weight", StringComparison.Ordinal)
                     && stateDict[k].dim() == 2) is not null)
        {
            kind = ModelKind.Ae;
            latent = (int)stateDict.Where(kv => kv.Key.StartsWith("projection.projection_head.", StringComparison.Ordinal) && kv.Value.dim() == 2)
                .OrderBy(kv => kv.Key, StringComparer.Ordinal).Last().Value.shape[0];
        }

        string? decoder = null;
        if (stateDict.ContainsKey("decoder.conv1.weight"))
        {
            var dblock = stateDict.ContainsKey("decoder.layer1.0.conv3.weight") ? BlockKind.Bottleneck : BlockKind.Basic;
            var dlayers = Enumerable.Range(1, 4).Select(n => CountBlocks(stateDict, $"decoder.layer{n}.")).ToArray();
            // The decoder need not match the encoder (the reference pairs decoder50 with any of them):
            // its own widening shows in conv2, which maps width * widen * expansion / 2 channels to width.
            long decoderIn = dconv2 is null ? -1 : dconv2.shape[1];
            decoder = Architecture.Decoders.Values.FirstOrDefault(d => d.Block == dblock && d.Layers.SequenceEqual(dlayers)
                          && decoderWidth is int dw && decoderIn == (long)dw * d.Widen * d.Expansion / 2)?.Name
                ?? throw new InvalidDataException($"{what}: decoder shapes fit no known architecture ({dblock} blocks, layers [{string.Join(", ", dlayers)}], conv2 {decoderIn} -> {decoderWidth} channels)");
        }

        return new ModelOptions
        {
            Kind = kind,
            Encoder = encoder.Name,
            Decoder = decoder,
            Stem = stem,
            InputHeight = height,
            LatentDim = latent,
            Width = width,
            DecoderWidth = decoderWidth is int dw2 && dw2 != width ? dw2 : null,
            LogScale = stateDict.TryGetValue("log_scale", out var ls) ? ls.to_type(ScalarType.Float64).item<double>() : 0,
        };
    }

    private static int CountBlocks(IReadOnlyDictionary<string, Tensor> stateDict, string prefix) =>
        stateDict.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => k[prefix.Length..].Split('.')[0])
            .Where(s => int.TryParse(s, out _)).Distinct().Count();

    private static T? Get<T>(IDictionary? hyperParameters, string key) where T : class =>
        hyperParameters is not null && hyperParameters.Contains(key) ? hyperParameters[key] as T : null;
}

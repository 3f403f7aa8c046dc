using System.Globalization;

namespace Aavae.Embedding;

/// <summary>
/// What an exported ONNX encoder holds and how its pictures must be prepared, as the model's metadata
/// says it: written by the exporter (Aavae.Core), read by the ONNX Runtime encoder (Aavae.Onnx).
/// </summary>
/// <param name="InputSize">The evaluation transform's side: pictures are resized and centre-cropped to it.</param>
/// <param name="ResizeTo">The short side pictures are resized to before that crop.</param>
/// <param name="Grey">Colour pictures are made grey (the data set's are) before the encoder sees them.</param>
public sealed record OnnxEncoderInfo(string Encoder, int Width, string Stem, int InputSize, int FeatureDim, string Dataset, float[] Mean, float[] Std, bool BatchNormFolded,
    int ResizeTo, bool Grey)
{
    public IEnumerable<(string Key, string Value)> ToMetadata()
    {
        static string List(float[] v) => string.Join(",", v.Select(x => x.ToString("R", CultureInfo.InvariantCulture)));
        yield return ("aavae.encoder", Encoder);
        yield return ("aavae.width", Width.ToString(CultureInfo.InvariantCulture));
        yield return ("aavae.stem", Stem);
        yield return ("aavae.input_size", InputSize.ToString(CultureInfo.InvariantCulture));
        yield return ("aavae.feature_dim", FeatureDim.ToString(CultureInfo.InvariantCulture));
        yield return ("aavae.dataset", Dataset);
        yield return ("aavae.mean", List(Mean));
        yield return ("aavae.std", List(Std));
        yield return ("aavae.batchnorm_folded", BatchNormFolded ? "true" : "false");
        yield return ("aavae.resize", ResizeTo.ToString(CultureInfo.InvariantCulture));
        yield return ("aavae.grey", Grey ? "true" : "false");
    }

    /// <param name="source">The model file, named in every refusal.</param>
    public static OnnxEncoderInfo FromMetadata(IReadOnlyDictionary<string, string> metadata, string source)
    {
        string Get(string key) => metadata.TryGetValue(key, out var v) ? v
            : throw new InvalidDataException($"{source}: its metadata lacks {key} (not an encoder exported by `aavae export --format onnx` of this version)");
        int Int(string key) => int.TryParse(Get(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v
            : throw new InvalidDataException($"{source}: metadata {key} '{Get(key)}' is not a positive integer");
        bool Bool(string key) => Get(key) switch
        {
            "true" => true,
            "false" => false,
            var v => throw new InvalidDataException($"{source}: metadata {key} '{v}' is neither true nor false"),
        };
        float[] Floats(string key)
        {
            var parts = Get(key).Split(',');
            var values = new float[parts.Length];
            for (int i = 0; i < parts.Length; i++)
                if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !float.IsFinite(values[i]))
                    throw new InvalidDataException($"{source}: metadata {key} '{Get(key)}' is not a list of numbers");
            return values.Length == 3 ? values : throw new InvalidDataException($"{source}: metadata {key} has {values.Length} values, expected 3 (one per channel)");
        }
        var std = Floats("aavae.std");
        if (std.Any(s => s <= 0)) throw new InvalidDataException($"{source}: metadata aavae.std '{Get("aavae.std")}' must be positive");
        return new OnnxEncoderInfo(Get("aavae.encoder"), Int("aavae.width"), Get("aavae.stem"), Int("aavae.input_size"), Int("aavae.feature_dim"), Get("aavae.dataset"),
            Floats("aavae.mean"), std, Bool("aavae.batchnorm_folded"), Int("aavae.resize"), Bool("aavae.grey"));
    }
}

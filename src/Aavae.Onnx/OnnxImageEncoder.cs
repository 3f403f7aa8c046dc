using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Aavae.Embedding;

namespace Aavae.Onnx;

/// <summary>
/// A trained encoder on ONNX Runtime alone, no libtorch: load the model <c>aavae export --format onnx</c>
/// wrote, then embed PNG / JPEG files or decoded pixels. Pictures get the evaluation transform the
/// model's metadata names (<see cref="EvalTransform"/>), so the features equal those of Aavae.Core's
/// <c>ImageEncoder</c> on the checkpoint the model came from.
/// </summary>
public sealed class OnnxImageEncoder : ImageEmbedder
{
    private readonly InferenceSession session;
    private readonly EvalTransform transform;

    private OnnxImageEncoder(InferenceSession session, OnnxEncoderInfo info)
    {
        this.session = session;
        Info = info;
        transform = new EvalTransform(info);
    }

    /// <param name="threads">ONNX Runtime's intra-op threads; 0 lets it choose (one per core).</param>
    public static OnnxImageEncoder Load(string model, int threads = 0)
    {
        if (!File.Exists(model)) throw new FileNotFoundException($"{model}: no such file", model);
        if (threads < 0) throw new ArgumentException($"threads must be >= 0, got {threads}");
        using var options = new SessionOptions { IntraOpNumThreads = threads };
        InferenceSession session;
        try
        {
            session = new InferenceSession(model, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{model}: not a model ONNX Runtime can load ({e.Message.Split('\n')[0]})", e);
        }
        try
        {
            var info = OnnxEncoderInfo.FromMetadata(session.ModelMetadata.CustomMetadataMap, model);
            if (!session.InputMetadata.ContainsKey("input") || !session.OutputMetadata.ContainsKey("features"))
                throw new InvalidDataException($"{model}: expected an input named 'input' and an output named 'features'");
            return new OnnxImageEncoder(session, info);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>What the model's metadata says: encoder, data set, input size, normalisation.</summary>
    public OnnxEncoderInfo Info { get; }

    public override int ImageSize => Info.InputSize;

    public override int FeatureDim => Info.FeatureDim;

    /// <summary>The batch as the model's input: [B, 3, S, S], each picture's evaluation view.</summary>
    public DenseTensor<float> Preprocess(IReadOnlyList<Pixels> images)
    {
        int view = 3 * ImageSize * ImageSize;
        var input = new float[images.Count * view];
        for (int i = 0; i < images.Count; i++) transform.Apply(images[i], input.AsSpan(i * view, view));
        return new DenseTensor<float>(input, [images.Count, 3, ImageSize, ImageSize]);
    }

    protected override float[][] EmbedBatch(IReadOnlyList<Pixels> images)
    {
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", Preprocess(images))]);
        var features = results.Single(r => r.Name == "features").AsTensor<float>().ToArray();
        return Enumerable.Range(0, images.Count).Select(i => features.AsSpan(i * FeatureDim, FeatureDim).ToArray()).ToArray();
    }

    public override void Dispose() => session.Dispose();
}

using Aavae.Augmentation;
using Aavae.Checkpoints;
using Aavae.Data;
using Aavae.Evaluation;
using Aavae.Kernels;
using Aavae.Models;
using Aavae.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Aavae.Embedding;

namespace Aavae.Inference;

/// <summary>
/// A trained encoder for .NET code that does not want to touch tensors: load any checkpoint (this
/// project's, the paper's Lightning <c>.ckpt</c>, a <c>.safetensors</c> or <c>.pt</c> state dict),
/// then embed PNG / JPEG files or decoded pixels, and reconstruct pictures when the checkpoint
/// holds the decoder. Pictures go through the evaluation transform of the checkpoint's data set:
/// short side resized (to the image size, x1.1 for STL-10, x256/224 for ImageNet), centre crop,
/// grey for Fashion-MNIST, normalised with the data set's mean and std.
/// </summary>
public sealed class ImageEncoder : ImageEmbedder
{
    private readonly ResNetEncoder encoder;
    private readonly AavaeModel? model;
    private readonly Views views;
    private readonly Device device;
    private readonly string path;
    private readonly ModelKind kind;

    /// <summary>Builds the networks; the weights are not kept (they would double the memory).</summary>
    private ImageEncoder(PretrainedWeights weights, DatasetInfo dataset, Device device, Precision precision)
    {
        CheckpointEncoder.CheckPrecision(precision, device);
        Precision = precision;
        this.device = device;
        path = weights.Path;
        kind = weights.Options.Kind;
        Dataset = dataset;
        views = new Views(dataset, device);
        if (weights.HasDecoder && kind != ModelKind.Ae)
        {
            var built = weights.BuildModel(out _);
            try
            {
                CheckpointEncoder.PrepareForEvaluation(built, built.Encoder, device, MemoryFormat.ChannelsLast, precision);
            }
            catch
            {
                built.Dispose();
                throw;
            }
            model = built;
            encoder = built.Encoder;
        }
        else
        {
            encoder = CheckpointEncoder.Build(weights, device, precision: precision);
        }
    }

    /// <summary>Loads a checkpoint, or a run folder's last one.</summary>
    /// <param name="dataset">The data set whose transform pictures get (fashion-mnist, cifar10, stl10, imagenet; folder: the checkpoint's own picture folder); null: the one the
    /// checkpoint says it was trained on. A bare state dict (.pt, .safetensors) says nothing: name it, unless its image size has one data set only.</param>
    /// <param name="device">auto, cpu, cuda or cuda:N.</param>
    public static ImageEncoder Load(string checkpoint, string? dataset = null, string device = "auto") => Load(checkpoint, dataset, device, "32");

    /// <summary>Loads a checkpoint to compute in <paramref name="precision"/>.</summary>
    /// <param name="precision">32, or bf16-mixed: the convolutions in bfloat16, the features float32 (faster on CPUs with AVX512-BF16 or AMX); 16-mixed on CUDA.</param>
    public static ImageEncoder Load(string checkpoint, string? dataset, string device, string precision)
    {
        var mixed = Precisions.Parse(precision);
        TorchRuntime.EnsureLoaded();
        var resolved = DeviceChoice.Resolve(device);
        using var weights = PretrainedWeights.Read(Runs.RunFolder.ResolveCheckpoint(checkpoint));
        // A picture folder's statistics are its checkpoint's: "folder" names them, it cannot supply them.
        var info = dataset is not null && !DatasetInfo.Get(dataset).IsFolder ? DatasetInfo.Get(dataset)
            : weights.TrainedData is { } trained ? trained
            : dataset is not null ? throw new Configuration.OptionException("Dataset", $"folder: {weights.Path} was not trained on a picture folder, so it holds no folder statistics; name the data set it was trained on")
            : DatasetFor(weights);
        weights.CheckImageSize(info);
        return new ImageEncoder(weights, info, resolved, mixed);
    }

    private static DatasetInfo DatasetFor(PretrainedWeights weights)
    {
        var candidates = DatasetInfo.All.Where(d => !d.IsFolder && d.InputHeight == weights.Options.InputHeight).ToList();
        return candidates.Count == 1 ? candidates[0]
            : throw new ArgumentException($"{weights.Path} does not say which data set it was trained on and {weights.Options.InputHeight}-pixel models fit " +
                $"{string.Join(" and ", candidates.Select(d => d.Name))}: name one (dataset: ...), whose transform the pictures get");
    }

    /// <summary>The precision the convolutions compute in.</summary>
    public Precision Precision { get; }

    /// <summary>The data set whose transform pictures get.</summary>
    public DatasetInfo Dataset { get; }

    /// <summary>The side of the square the encoder sees.</summary>
    public override int ImageSize => Dataset.InputHeight;

    /// <summary>Length of a feature vector (the encoder's pooled features, as linear evaluation uses them).</summary>
    public override int FeatureDim => encoder.FeatureDim;

    /// <summary>Whether <see cref="Reconstruct(Pixels)"/> can work: the checkpoint holds a VAE's projection and decoder.</summary>
    public bool CanReconstruct => model is not null;

    /// <summary>The picture the decoder makes of the posterior mean of <paramref name="image"/>'s latent, RGB at <see cref="ImageSize"/>.</summary>
    public Pixels Reconstruct(Pixels image)
    {
        if (model is null)
            throw new InvalidOperationException($"{path} holds no VAE decoder to reconstruct with ({(kind == ModelKind.Ae ? "an AE" : "encoder weights only")})");
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var x = Preprocess([image]);
        var reconstruction = model.Decoder.call(model.Encode(x).Mean);
        var mean = tensor(Dataset.Normalization.Mean, device: device).view(1, 3, 1, 1);
        var std = tensor(Dataset.Normalization.Std, device: device).view(1, 3, 1, 1);
        var bytes = reconstruction.mul(std).Plus(mean).mul(Scalars.MaxPixel).round().clamp(Scalars.Zero, Scalars.MaxPixel)
            .to_type(ScalarType.Byte)[0].permute(1, 2, 0).contiguous().cpu();
        return new Pixels(ImageSize, ImageSize, 3, bytes.data<byte>().ToArray());
    }

    public Pixels Reconstruct(string imageFile) => Reconstruct(Pixels.Read(imageFile));

    protected override float[][] EmbedBatch(IReadOnlyList<Pixels> images)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var features = encoder.call(Preprocess(images)).cpu().contiguous();
        var flat = features.data<float>().ToArray();
        return Enumerable.Range(0, images.Count).Select(i => flat.AsSpan(i * FeatureDim, FeatureDim).ToArray()).ToArray();
    }

    internal Tensor Preprocess(IReadOnlyList<Pixels> images) => EvalView(Dataset, views, images);

    /// <summary>The evaluation view of each picture for <paramref name="dataset"/>, normalised, as [B, 3, S, S] on the views' device.</summary>
    internal static Tensor EvalView(DatasetInfo dataset, Views views, IReadOnlyList<Pixels> images)
    {
        int size = dataset.InputHeight;
        int shortSide = dataset.EvalShortSide;
        var pictures = new List<Tensor>(images.Count);
        foreach (var image in images)
        {
            image.Check();
            var x = tensor(image.Data, [image.Height, image.Width, image.Channels], ScalarType.Byte).permute(2, 0, 1).unsqueeze(0)
                .to(views.Device).to_type(ScalarType.Float32).div_(Scalars.MaxPixel);
            if (image.Channels == 1) x = x.expand(-1, 3, -1, -1);
            else if (dataset.Grey) x = ColorOps.Grayscale(x).expand(-1, 3, -1, -1);
            // Fashion-MNIST's own 28 x 28 pictures are zero-padded to 32, as the data set stores them, not resized.
            if (dataset.Name == DatasetInfo.FashionMnist.Name && image.Width == FashionMnist.ImageSide && image.Height == FashionMnist.ImageSide)
                x = nn.functional.pad(x, [FashionMnist.Padding, FashionMnist.Padding, FashionMnist.Padding, FashionMnist.Padding]);
            if (Math.Min(image.Height, image.Width) != shortSide || image.Height != image.Width || image.Height != size)
                x = Geometry.ResizeCenterCrop(x, shortSide, size);
            pictures.Add(x);
        }
        return views.Normalize(cat(pictures, 0));
    }

    public override void Dispose()
    {
        if (model is not null) model.Dispose();
        else encoder.Dispose();
    }
}

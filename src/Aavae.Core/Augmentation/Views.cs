using Aavae.Data;
using Aavae.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Augmentation;

/// <summary>
/// The views of one data set (the reference's src/transforms/transforms.py), from uint8 batches to normalised float
/// tensors on the model's device: the <c>original</c> view, the SimCLR view, and the
/// linear-evaluation training view.
/// </summary>
public sealed class Views
{
    private readonly SimClrView simclr;
    private readonly Tensor mean;
    private readonly Tensor std;

    /// <param name="augmentation">The SimCLR view's settings; null: the reference's (crop scale 0.08, the data set's jitter strength).</param>
    public Views(DatasetInfo dataset, Device device, AugmentationOptions? augmentation = null)
    {
        augmentation ??= new AugmentationOptions();
        Dataset = dataset;
        Device = device;
        simclr = new SimClrView(dataset.InputHeight, augmentation.JitterStrength ?? dataset.JitterStrength, dataset.GaussianBlur, augmentation.CropScale);
        mean = tensor(dataset.Normalization.Mean, device: device).view(1, 3, 1, 1).DetachFromDisposeScope();
        std = tensor(dataset.Normalization.Std, device: device).view(1, 3, 1, 1).DetachFromDisposeScope();
    }

    public DatasetInfo Dataset { get; }
    public Device Device { get; }
    public SimClrView SimClr => simclr;

    /// <summary>uint8 [B, C, H, W] to float [0, 1] RGB on the device; grey images are replicated to 3 channels.</summary>
    public Tensor ToUnitRange(Tensor images)
    {
        var x = images.to(Device).to_type(ScalarType.Float32).div_(Scalars.MaxPixel);
        return x.shape[1] == 1 ? x.expand(-1, 3, -1, -1).contiguous() : x;
    }

    public Tensor Normalize(Tensor x) => (x - mean) / std;

    /// <summary>The reference's lightly processed image (its OriginalTransform, the evaluation view):
    /// as stored for 32x32 sets and image folders (centre-cropped when decoded); resized and
    /// centre-cropped where the data set says (STL-10: Resize(105) + CenterCrop(96)).</summary>
    public Tensor Original(Tensor unit) => Normalize(Dataset.EvalResize is double resize
        ? Geometry.ResizeCenterCrop(unit, (int)(Dataset.InputHeight * resize), Dataset.InputHeight)
        : unit);

    public Tensor Augmented(Tensor unit, Random rng) => Normalize(simclr.Apply(unit, rng));

    /// <summary>
    /// (x, original, labels) for pre-training from a source's images. From an image folder the
    /// SimCLR view's RandomResizedCrop is cut from the full decoded picture, as torchvision crops
    /// the PIL image; the original is the evaluation view (Resize(256) + CenterCrop(224) for ImageNet).
    /// Under data parallelism <paramref name="indices"/> is the global batch: every process draws
    /// the whole batch's augmentation parameters (cheap) and reads and augments only its
    /// <paramref name="shard"/>, so an image's view does not depend on the number of processes.
    /// </summary>
    public (Tensor X, Tensor Original, Tensor Labels) Pretraining(IImageSource source, long[] indices, bool denoising, Random rng, Shard shard = default)
    {
        if (denoising && FullImages.Find(source, indices) is { } found)
        {
            var p = simclr.Sample(rng, found.Indices.Select(found.Source.SizeOf).ToArray());
            if (!shard.IsWhole) p = p.Slice(shard.Positions(indices.Length));
            var (images, crops, labels) = found.Source.GetBatchWithCrops(shard.Of(found.Indices), p.Boxes, p.Flips, simclr.Size);
            return (Normalize(simclr.AfterCrop(ToUnitRange(crops), p)), Original(ToUnitRange(images)), labels);
        }
        var (batch, batchLabels) = source.GetBatch(shard.Of(indices));
        var unit = ToUnitRange(batch);
        var original = Original(unit);
        if (!denoising) return (original, original, batchLabels);
        var parameters = simclr.Sample(rng, indices.Length, (int)unit.shape[2], (int)unit.shape[3]);
        if (!shard.IsWhole) parameters = parameters.Slice(shard.Positions(indices.Length));
        return (Normalize(simclr.Apply(unit, parameters)), original, batchLabels);
    }

    /// <summary>(x, original) for pre-training: x is the SimCLR view with denoising, else the original itself.</summary>
    public (Tensor X, Tensor Original) Pretraining(Tensor images, bool denoising, Random rng)
    {
        var unit = ToUnitRange(images);
        var original = Original(unit);
        return (denoising ? Augmented(unit, rng) : original, original);
    }

    /// <summary>The linear-evaluation training view of a source's images (RandomResizedCrop from the full picture for image folders) and their labels.</summary>
    public (Tensor X, Tensor Labels) LinearEvalTrain(IImageSource source, long[] indices, Random rng)
    {
        if (FullImages.Find(source, indices) is { } found)
        {
            var (flips, boxes) = SampleResizedCrops(rng, found.Indices.Select(found.Source.SizeOf).ToArray());
            var (_, crops, labels) = found.Source.GetBatchWithCrops(found.Indices, boxes, flips, Dataset.InputHeight);
            return (Normalize(ToUnitRange(crops)), labels);
        }
        var (images, batchLabels) = source.GetBatch(indices);
        return (LinearEvalTrain(images, rng), batchLabels);
    }

    /// <summary>Linear-evaluation training view: RandomCrop(pad 4, reflect) + flip or RandomResizedCrop + flip, as the data set says.</summary>
    public Tensor LinearEvalTrain(Tensor images, Random rng)
    {
        var unit = ToUnitRange(images);
        int b = (int)unit.shape[0], h = (int)unit.shape[2], w = (int)unit.shape[3];
        if (Dataset.LinearEvalCrop == LinearEvalCrop.PaddedRandomCrop)
        {
            var flipped = Enumerable.Range(0, b).Select(_ => rng.NextDouble() < 0.5).ToArray();
            var top = Enumerable.Range(0, b).Select(_ => rng.Next(9)).ToArray();
            var left = Enumerable.Range(0, b).Select(_ => rng.Next(9)).ToArray();
            return Normalize(Geometry.HorizontalFlip(Geometry.PaddedCrop(unit, 4, top, left), flipped));
        }
        var (flips, boxes) = SampleResizedCrops(rng, Enumerable.Repeat((h, w), b).ToArray());
        return Normalize(Geometry.ResizedCrop(unit, boxes, flips, Dataset.InputHeight));
    }

    /// <summary>RandomResizedCrop + flip parameters of the linear-evaluation view: every flip first, then each image's box within its own size.</summary>
    private static (bool[] Flips, CropBox[] Boxes) SampleResizedCrops(Random rng, (int Height, int Width)[] sizes)
    {
        var flips = sizes.Select(_ => rng.NextDouble() < 0.5).ToArray();
        var boxes = sizes.Select(s => Geometry.SampleResizedCrop(rng, s.Height, s.Width, SimClrView.Scale, SimClrView.Ratio)).ToArray();
        return (flips, boxes);
    }

    /// <summary>Evaluation view: the original transform.</summary>
    public Tensor Eval(Tensor images) => Original(ToUnitRange(images));
}

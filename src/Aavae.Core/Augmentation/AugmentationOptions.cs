using Aavae.Configuration;

namespace Aavae.Augmentation;

/// <summary>What the encoder sees: the SimCLR view of src/vae.py's transforms, or the image itself.</summary>
public sealed record AugmentationOptions
{
    /// <summary>Feed the encoder the SimCLR view; the decoder still reconstructs the original. On for AAVAE.</summary>
    [Setting("feed the encoder the SimCLR view")]
    public bool Denoising { get; init; } = true;

    [Setting("smallest share of the picture's area the SimCLR view's RandomResizedCrop keeps (the reference: 0.08)", Min = 0, MinExclusive = true, Max = 1)]
    public double CropScale { get; init; } = 0.08;

    /// <summary>Null: the data set's (vae.py sets 0.5 for CIFAR-10, 1.0 for STL-10 and ImageNet; Fashion-MNIST follows CIFAR-10).</summary>
    [Setting("colour-jitter strength s of the SimCLR view: brightness, contrast, saturation 0.8s, hue 0.2s (default: the data set's, 0.5 for Fashion-MNIST and CIFAR-10, 1.0 for STL-10)",
        Min = 0, Max = 2.5, RangeReason = "hue 0.2s may not pass 0.5")]
    public double? JitterStrength { get; init; }
}

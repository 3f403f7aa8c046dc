using Aavae.Configuration;

namespace Aavae.Models;

/// <summary>
/// The first layers of the encoder, which also fix how far the decoder must upscale.
/// CIFAR-sized data keeps full resolution; STL-10 halves it once; ImageNet halves it twice.
/// </summary>
public enum Stem
{
    /// <summary>3x3 conv, stride 1, no max-pool (32x32 data).</summary>
    [SettingName("cifar", "cifar10")] Cifar,
    /// <summary>7x7 conv, stride 2, no max-pool (STL-10, 96x96).</summary>
    [SettingName("stl10", "stl")] Stl10,
    /// <summary>7x7 conv, stride 2, then 3x3 max-pool with stride 2 (ImageNet, 224x224).</summary>
    [SettingName("imagenet")] ImageNet,
}

public static class StemExtensions
{
    public static bool FirstConv3x3(this Stem stem) => stem == Stem.Cifar;

    public static bool RemoveFirstMaxPool(this Stem stem) => stem != Stem.ImageNet;

    /// <summary>Total spatial reduction the decoder undoes after its 4x4 start: 8, 16 or 32.</summary>
    public static int UpscaleFactor(this Stem stem) =>
        8 * (stem.FirstConv3x3() ? 1 : 2) * (stem.RemoveFirstMaxPool() ? 1 : 2);

    /// <summary>Throws unless the decoder can produce <paramref name="inputHeight"/> with this stem.</summary>
    public static void CheckInputSize(this Stem stem, int inputHeight)
    {
        int f = stem.UpscaleFactor();
        if (inputHeight < f || inputHeight % f != 0)
        {
            int below = inputHeight / f * f, above = below + f;
            string nearest = below >= f ? $"{below} or {above}" : $"{above}";
            throw new OptionException(nameof(ModelOptions.InputHeight),
                $"{inputHeight} cannot be produced by the decoder with the {stem.ToString().ToLowerInvariant()} stem: it must be a multiple of {f} (nearest: {nearest})");
        }
    }

    public static string Name(this Stem stem) => SettingValues.Name(stem);

    public static Stem Parse(string name) => SettingValues.Parse<Stem>(name, nameof(ModelOptions.Stem));
}

using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Runtime;

/// <summary>
/// Explicit scalars for libtorch calls on hot paths. TorchSharp turns a number passed where a
/// <see cref="Scalar"/> is expected (<c>0.299 * t</c>, <c>1 - t</c>, <c>t.clamp(0, 1)</c>, and the
/// hidden alpha of <c>a + b</c> and <c>a.add(b)</c>) into a native scalar that only its finalizer
/// frees; once libtorch has its handle, nothing managed refers to it, so a collection started by
/// another thread frees it while libtorch is still reading it (NativeLifetimeSoakTests reproduces
/// "Expected false to be true ... toFloat" in under a second). Constants here live as long as the
/// process; other values are made with <c>using var s = value.ToScalar()</c> so they outlive the call.
/// </summary>
public static class Scalars
{
    public static readonly Scalar Zero = 0.ToScalar();
    public static readonly Scalar One = 1.ToScalar();
    public static readonly Scalar Two = 2.ToScalar();
    public static readonly Scalar OneDouble = 1.0.ToScalar();
    /// <summary>The largest 8-bit pixel value, between byte images and [0, 1] floats.</summary>
    public static readonly Scalar MaxPixel = 255.ToScalar();

    /// <summary>a + b, without TorchSharp's implicitly converted alpha.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary>1 - t, as TorchSharp computes <c>1.0 - t</c> (negate, then add).</summary>
    public static Tensor OneMinus(this Tensor t) => t.neg().add(OneDouble, One);

    /// <summary>Clamped to [0, 1].</summary>
    public static Tensor ClampUnit(this Tensor t) => t.clamp(Zero, One);
}

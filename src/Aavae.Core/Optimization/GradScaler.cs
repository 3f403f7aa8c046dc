using System.Collections;
using System.Globalization;
using Aavae.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Aavae.Optimization;

/// <summary>
/// Dynamic loss scaling for float16 training (<c>--precision 16-mixed</c>, the reference's <c>--fp16</c>
/// under Lightning's native AMP), as torch.cuda.amp.GradScaler does it: the loss is multiplied by the
/// scale before backward so that small float16 gradients do not flush to zero; the gradients are
/// divided by it before anything reads them; a step whose gradients hold an inf or NaN is skipped and
/// the scale halved, and after <see cref="GrowthInterval"/> finite steps in a row the scale doubles.
/// The defaults are GradScaler's (2^16, x2, x0.5, 2,000), and so are the state's names, so a
/// Lightning checkpoint's <c>native_amp_scaling_state</c> reads back.
/// </summary>
public sealed class GradScaler(double initScale = 65536.0, double growthFactor = 2.0, double backoffFactor = 0.5, int growthInterval = 2000)
{
    /// <summary>Below this scale an overflow is not float16's range but a diverged run: the training loop stops.</summary>
    public const double MinScale = 1.0 / (1 << 24);

    public double Scale { get; private set; } = initScale;
    public double GrowthFactor { get; } = growthFactor;
    public double BackoffFactor { get; } = backoffFactor;
    public int GrowthInterval { get; } = growthInterval;
    /// <summary>Finite steps since the scale last changed.</summary>
    public int GrowthTracker { get; private set; }

    /// <summary>The loss times the scale: what backward runs on.</summary>
    public Tensor ScaleLoss(Tensor loss)
    {
        using var scale = Scale.ToScalar();
        return loss.mul(scale);
    }

    /// <summary>
    /// Divides every gradient by the scale, in place, before anything reads them. Whether the step may
    /// be taken is whether they are all finite: the training loop reads that from the gradient norm it
    /// reads anyway, so the scaler costs no wait for the device of its own.
    /// </summary>
    public void Unscale(IEnumerable<Parameter> parameters)
    {
        using var inverse = (1.0 / Scale).ToScalar();
        using var _ = no_grad();
        foreach (var p in parameters)
            if (p.grad is { } g) g.mul_(inverse);
    }

    /// <summary>After a step: back off (and restart the count) when its gradients were not finite, else count it and grow every <see cref="GrowthInterval"/> steps.</summary>
    public void Update(bool finite)
    {
        if (!finite)
        {
            Scale *= BackoffFactor;
            GrowthTracker = 0;
            return;
        }
        if (++GrowthTracker < GrowthInterval) return;
        // torch keeps the scale in float32 and grows it only while that stays finite.
        if (float.IsFinite((float)(Scale * GrowthFactor))) Scale *= GrowthFactor;
        GrowthTracker = 0;
    }

    /// <summary>torch.cuda.amp.GradScaler.state_dict's names and values.</summary>
    public Dictionary<string, object> StateDict() => new()
    {
        ["scale"] = Scale, ["growth_factor"] = GrowthFactor, ["backoff_factor"] = BackoffFactor,
        ["growth_interval"] = (long)GrowthInterval, ["_growth_tracker"] = (long)GrowthTracker,
    };

    /// <summary>Restores the scale and count of <see cref="StateDict"/> (or of Lightning's <c>native_amp_scaling_state</c>).</summary>
    public void LoadStateDict(IDictionary state)
    {
        Scale = state["scale"] is IConvertible s ? s.ToDouble(CultureInfo.InvariantCulture) : throw new InvalidDataException("the gradient scaler's state has no scale");
        GrowthTracker = state["_growth_tracker"] is IConvertible t ? t.ToInt32(CultureInfo.InvariantCulture) : 0;
    }
}

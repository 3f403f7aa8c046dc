using Aavae.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Aavae.Tests.Optimization;

/// <summary>Loss scaling as torch.cuda.amp.GradScaler's <c>_amp_update_scale_</c> defines it, checked by hand.</summary>
public class GradScalerTests
{
    [Fact]
    public void GradientsOfTheScaledLossUnscaleToTheLosssOwn()
    {
        using var w = new Parameter(tensor(new[] { 2f, -1f }));
        var scaler = new GradScaler(initScale: 1024);
        // d/dw of sum(3 w^2) is 6 w: 12 and -6, whatever the scale.
        using var three = 3.ToScalar();
        using (var loss = w.square().sum().mul(three)) scaler.ScaleLoss(loss).backward();
        Assert.Equal([12f * 1024, -6f * 1024], w.grad!.data<float>().ToArray());
        scaler.Unscale([w]);
        Assert.Equal([12f, -6f], w.grad!.data<float>().ToArray());
    }

    [Fact]
    public void TheScaleBacksOffOnAnOverflowAndGrowsAfterTheIntervalOfFiniteSteps()
    {
        var scaler = new GradScaler(initScale: 8, growthFactor: 2, backoffFactor: 0.5, growthInterval: 3);
        var seen = new List<(double, int)>();
        foreach (bool finite in new[] { true, true, false, true, true, true, true })
        {
            scaler.Update(finite);
            seen.Add((scaler.Scale, scaler.GrowthTracker));
        }
        // Two finite steps count up; the overflow halves and restarts the count; three finite steps double.
        Assert.Equal([(8.0, 1), (8.0, 2), (4.0, 0), (4.0, 1), (4.0, 2), (8.0, 0), (8.0, 1)], seen);
    }

    [Fact]
    public void ItsStateReadsBackUnderTorchsNames()
    {
        var scaler = new GradScaler(initScale: 8, growthInterval: 3);
        scaler.Update(true);
        scaler.Update(false);
        scaler.Update(true);
        var state = scaler.StateDict();
        Assert.Equal(["_growth_tracker", "backoff_factor", "growth_factor", "growth_interval", "scale"], state.Keys.Order(StringComparer.Ordinal));
        var restored = new GradScaler();
        restored.LoadStateDict(state);
        Assert.Equal((4.0, 1), (restored.Scale, restored.GrowthTracker));
    }
}

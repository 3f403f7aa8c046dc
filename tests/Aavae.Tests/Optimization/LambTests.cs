using Aavae.Optimization;
using Aavae.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Aavae.Tests.Optimization;

/// <summary>LAMB steps worked out by hand for a two-element parameter.</summary>
public class LambTests
{
    [Fact]
    public void FirstStepWithLayerAdaptation()
    {
        // w = (3, 4), g = (1, -2). Step 1: m_hat = g, v_hat = g^2, so update = g / (|g| + eps)
        // ~ (1, -1) (eps 1e-6); plus weight decay 0.1 * w = (0.3, 0.4) -> u = (1.3, -0.6) (to 1e-6).
        // trust = ||w|| / ||u|| = 5 / sqrt(1.69 + 0.36) = 5 / 1.431782; w' = w - lr * trust * u.
        var w = new Parameter(tensor(new[] { 3.0, 4.0 }));
        w.grad = tensor(new[] { 1.0, -2.0 });
        using var lamb = new Lamb([new ParameterGroup([w], 0.1, false)], lr: 0.01);
        lamb.Step();
        double u0 = 1 / (1 + 1e-6) + 0.3, u1 = -2 / (2 + 1e-6) + 0.4;
        double trust = 5 / Math.Sqrt(u0 * u0 + u1 * u1);
        var got = w.data<double>().ToArray();
        Assert.Equal(3 - 0.01 * trust * u0, got[0], 9);
        Assert.Equal(4 - 0.01 * trust * u1, got[1], 9);
    }

    [Fact]
    public void ExcludedGroupTakesPlainAdamStepAndSecondStepUsesMoments()
    {
        // Without adaptation and decay, step 1 moves each weight by lr * g / (|g| + eps).
        var b = new Parameter(tensor(new[] { 0.5, -0.5 }));
        b.grad = tensor(new[] { 2.0, -4.0 });
        using var lamb = new Lamb([new ParameterGroup([b], 0, true)], lr: 0.1);
        lamb.Step();
        Assert.Equal(0.5 - 0.1 * 2 / (2 + 1e-6), b.data<double>()[0], 9);

        // Step 2 with g = (0, -4): m = 0.9 * 0.1 * g1 + 0.1 * g2, v likewise; bias-corrected by
        // 1 - 0.9^2 and 1 - 0.999^2.
        b.grad = tensor(new[] { 0.0, -4.0 });
        double before = b.data<double>()[0];
        lamb.Step();
        double m = 0.9 * (0.1 * 2) + 0.1 * 0, v = 0.999 * (0.001 * 4) + 0.001 * 0;
        double expected = before - 0.1 * (m / 0.19) / (Math.Sqrt(v / (1 - 0.999 * 0.999)) + 1e-6);
        Assert.Equal(expected, b.data<double>()[0], 9);
    }

    [Fact]
    public void NegativeLearningRateIsRefused() =>
        Assert.Throws<ArgumentException>(() => new Lamb([], lr: -1));
}

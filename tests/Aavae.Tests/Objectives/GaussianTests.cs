using Aavae.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Tests.Objectives;

/// <summary>Closed forms against values worked out by hand.</summary>
public class GaussianTests
{
    static Tensor T(params float[] v) => tensor(v, dtype: float64);

    [Fact]
    public void LogProbOfStandardNormal()
    {
        // log N(0; 0, 1) = -log sqrt(2 pi); log N(1; 0, 1) = -1/2 - log sqrt(2 pi).
        var lp = Gaussian.LogProb(T(0, 1), T(0, 0), T(1, 1));
        Assert.Equal(-0.918938533, lp[0].item<double>(), 8);
        Assert.Equal(-1.418938533, lp[1].item<double>(), 8);
    }

    [Fact]
    public void LogProbWithScale()
    {
        // log N(3; 1, 2^2) = -(2/2)^2/2 - log 2 - log sqrt(2 pi) = -0.5 - 0.693147 - 0.918939.
        Assert.Equal(-2.112085714, Gaussian.LogProb(T(3), T(1), T(2)).item<double>(), 8);
    }

    [Fact]
    public void KlToStandardNormal()
    {
        // KL(N(1, 2^2) || N(0, 1)) = (1 + 4 - 1)/2 - log 2 = 1.306853.
        Assert.Equal(1.306852819, Gaussian.KlToStandardNormal(T(1), T(2)).item<double>(), 8);
        Assert.Equal(0.0, Gaussian.KlToStandardNormal(T(0), T(1)).item<double>(), 12);
    }

    [Fact]
    public void KlBetweenGaussians()
    {
        // KL(N(0, 1) || N(1, 2^2)) = log 2 + (1 + 1) / 8 - 1/2 = 0.443147.
        Assert.Equal(0.443147181, Gaussian.Kl(T(0), T(1), T(1), T(2)).item<double>(), 8);
        // The general form reduces to the standard-normal one.
        Assert.Equal(Gaussian.KlToStandardNormal(T(0.3f), T(0.7f)).item<double>(),
            Gaussian.Kl(T(0.3f), T(0.7f), T(0), T(1)).item<double>(), 10);
        // KL is not symmetric: KL(N(1,4) || N(0,1)) differs from the value above.
        Assert.NotEqual(0.443147181, Gaussian.Kl(T(1), T(2), T(0), T(1)).item<double>(), 3);
    }

    [Fact]
    public void StdFromLogVarAddsEpsilon()
    {
        // exp(log(4) / 2) + 1e-6 = 2.000001.
        Assert.Equal(2.000001, Gaussian.StdFromLogVar(T((float)Math.Log(4))).item<double>(), 6);
    }

    [Fact]
    public void GradientFlowsThroughReparameterisation()
    {
        // z = mu + std * eps with std = exp(logvar / 2) + 1e-6, so dz/dmu = 1 and
        // dz/dlogvar = eps * exp(logvar / 2) / 2 = (z - mu) * exp(logvar/2) / (2 std).
        manual_seed(3);
        var mu = tensor(new[] { 0.5, -1.0, 2.0 }, requires_grad: true);
        var logvar = tensor(new[] { 0.0, 1.0, -2.0 }, requires_grad: true);
        var std = Gaussian.StdFromLogVar(logvar);
        var z = Gaussian.Sample(mu, std, randn_like(mu));
        z.sum().backward();

        Assert.Equal(new[] { 1.0, 1.0, 1.0 }, mu.grad!.data<double>().ToArray());
        using var _ = no_grad();
        var eps = (z - mu) / std;
        var expected = eps * (logvar / 2).exp() / 2;
        Assert.True(allclose(logvar.grad!, expected, rtol: 1e-9, atol: 1e-12));
        Assert.True(logvar.grad!.abs().sum().item<double>() > 0);
    }
}

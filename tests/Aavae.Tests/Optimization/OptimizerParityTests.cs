using Aavae.Optimization;
using Aavae.Models;
using Aavae.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Aavae.Tests.Optimization;

/// <summary>
/// The library's own Adam, SGD and BatchNorm forward (written out to pass libtorch explicit
/// scalars) compute exactly what TorchSharp's do, bit for bit, so training results are unchanged.
/// </summary>
public class OptimizerParityTests
{
    private static (Parameter[] Ours, Parameter[] Theirs) TwinParameters(int seed)
    {
        manual_seed(seed);
        var a = new[] { new Parameter(randn(4, 3)), new Parameter(randn(5)) };
        var b = a.Select(p => new Parameter(p.detach().clone())).ToArray();
        return (a, b);
    }

    private static void SetGrads(Parameter[] ps, int step)
    {
        manual_seed(100 + step);
        foreach (var p in ps) p.grad = randn_like(p);
    }

    private static void AssertIdentical(Parameter[] a, Parameter[] b, string what)
    {
        for (int i = 0; i < a.Length; i++)
            Assert.True(a[i].eq(b[i]).all().item<bool>(), $"{what}: parameter {i} differs");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1e-2)]
    public void AdamStepsEqualTorchSharpsAdamBitForBit(double weightDecay)
    {
        var (ours, theirs) = TwinParameters(1);
        using var adam = new AdamOptimizer([new ParameterGroup(ours, weightDecay, false)], 1e-2);
        using var reference = optim.Adam(theirs, 1e-2, weight_decay: weightDecay);
        for (int step = 0; step < 5; step++)
        {
            if (step == 3)
            {
                adam.SetLearningRate(3e-3);
                foreach (var g in reference.ParamGroups) g.LearningRate = 3e-3;
            }
            SetGrads(ours, step);
            SetGrads(theirs, step);
            adam.Step();
            reference.step();
            AssertIdentical(ours, theirs, $"step {step}");
        }
    }

    [Theory]
    [InlineData(0.9, true, 1e-4)]
    [InlineData(0.9, false, 0.0)]
    [InlineData(0.0, false, 0.0)]
    public void SgdStepsEqualTorchSharpsSgdBitForBit(double momentum, bool nesterov, double weightDecay)
    {
        var (ours, theirs) = TwinParameters(2);
        using var sgd = new SgdOptimizer(ours, 0.1, momentum, nesterov, weightDecay);
        using var reference = optim.SGD(theirs, 0.1, momentum: momentum, nesterov: nesterov, weight_decay: weightDecay);
        for (int step = 0; step < 5; step++)
        {
            SetGrads(ours, step);
            SetGrads(theirs, step);
            sgd.Step();
            reference.step();
            AssertIdentical(ours, theirs, $"step {step}");
        }
    }

    [Fact]
    public void BatchNormEqualsTorchSharpsInTrainingAndEvaluation()
    {
        using var ours2d = BatchNormNd.TwoD(3);
        using var theirs2d = nn.BatchNorm2d(3);
        using var ours1d = BatchNormNd.OneD(5);
        using var theirs1d = nn.BatchNorm1d(5);
        Assert.Equal(theirs2d.state_dict().Keys, ours2d.state_dict().Keys);
        manual_seed(3);
        foreach (var (ours, theirs, shape) in new (nn.Module<Tensor, Tensor>, nn.Module<Tensor, Tensor>, long[])[]
                 { (ours2d, theirs2d, [4, 3, 5, 5]), (ours1d, theirs1d, [6, 5]) })
        {
            for (int step = 0; step < 3; step++)
            {
                var x = randn(shape);
                Assert.True(ours.call(x).eq(theirs.call(x)).all().item<bool>(), "training-mode output");
            }
            foreach (var (k, v) in theirs.state_dict())
                Assert.True(v.eq(ours.state_dict()[k]).all().item<bool>(), $"{k} after training steps");
            ours.eval();
            theirs.eval();
            var probe = randn(shape);
            Assert.True(ours.call(probe).eq(theirs.call(probe)).all().item<bool>(), "evaluation-mode output");
        }
    }
}

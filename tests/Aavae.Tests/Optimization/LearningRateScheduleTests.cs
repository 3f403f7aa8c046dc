using Aavae.Optimization;
using Aavae.Training;

namespace Aavae.Tests.Optimization;

public class LearningRateScheduleTests
{
    [Fact]
    public void WarmsUpLinearlyThenHoldsOrDecays()
    {
        var constant = new LearningRateSchedule(10, 110, DecayKind.None);
        Assert.Equal(0.0, constant.Factor(0));
        Assert.Equal(0.5, constant.Factor(5));
        Assert.Equal(1.0, constant.Factor(10));
        Assert.Equal(1.0, constant.Factor(100));

        var cosine = new LearningRateSchedule(10, 110, DecayKind.Cosine);
        Assert.Equal(1.0, cosine.Factor(10), 12);
        Assert.Equal(0.5, cosine.Factor(60), 12);      // half way: (1 + cos(pi/2)) / 2
        Assert.Equal(0.0, cosine.Factor(110), 12);

        var linear = new LearningRateSchedule(10, 110, DecayKind.Linear);
        Assert.Equal(0.75, linear.Factor(35), 12);
        Assert.Equal(0.0, linear.Factor(110), 12);
    }

    [Fact]
    public void AFractionalWarmupEndsAtTheNearestStep()
    {
        // 429 steps an epoch (Fashion-MNIST's 55,000 images in batches of 128): half an epoch is 214.5 steps.
        var half = LearningRateSchedule.ForEpochs(429, 0.5, 2, DecayKind.Cosine);
        Assert.Equal((215L, 858L), (half.WarmupSteps, half.TotalSteps));
        Assert.Equal(100.0 / 215, half.Factor(100), 12);
        Assert.Equal(1.0, half.Factor(215), 12);
        Assert.Equal(429L, LearningRateSchedule.ForEpochs(429, 1, 2, DecayKind.Cosine).WarmupSteps);
    }

    [Fact]
    public void NoWarmupStartsAtFullRate() =>
        Assert.Equal(1.0, new LearningRateSchedule(0, 100, DecayKind.None).Factor(0));
}

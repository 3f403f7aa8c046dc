using Aavae.Checkpoints;
using Aavae.Optimization;
using Aavae.Options;
using Aavae.Training;
using static TorchSharp.torch;

namespace Aavae.Tests.Training;

/// <summary>
/// A time budget's arithmetic against hand-computed plans: the steps that fit, the epoch ends they
/// bring, the warm-up fitted to them, how the settings record them and how a resumed run keeps them.
/// </summary>
public sealed class TimeBudgetTests
{
    [Fact]
    public void TheMarginGrowsWithTheWorkAfterTraining()
    {
        // 15 minutes: 5% (45 s), 5 s, and a third of 102 s of page and evaluation.
        Assert.Equal(84, TimeBudget.Margin(TimeSpan.FromMinutes(15), afterTraining: 102), 9);
        Assert.Equal(50, TimeBudget.Margin(TimeSpan.FromMinutes(15)), 9);
    }

    [Theory]
    [InlineData(0, 10, 4, 3)] // ends at steps 4, 8 and the partial epoch's 10
    [InlineData(5, 8, 4, 1)] // at 8
    [InlineData(5, 7, 4, 1)] // at 7, inside the epoch under way
    [InlineData(8, 8, 4, 0)]
    public void EpochEndsCountEachWholeEpochAndTheLastPartialOne(long done, long steps, int batchesPerEpoch, long expected) =>
        Assert.Equal(expected, TimeBudget.EpochEnds(done, steps, batchesPerEpoch));

    [Fact]
    public void TheStepsAreTheMostWhoseStepsEpochEndsAndEvaluationFit()
    {
        // 1 s a step, 10 s an epoch's end of 100 steps, 50 s after training, 500 s left:
        // 400 steps cost 400 + 4 x 10 + 50 = 490; 401 to 409 bring a fifth epoch end (501 and more), 410 costs 510.
        var costs = new RunCosts(Step: 1, EpochEnd: 10, AfterTraining: 50);
        Assert.Equal(400, TimeBudget.Steps(0, 100, 500, costs, cap: long.MaxValue));
        Assert.Equal(250, TimeBudget.Steps(0, 100, 500, costs, cap: 250));
        // From step 130: 270 more steps and the ends at 200, 300, 400 cost 270 + 30 + 50 = 350.
        Assert.Equal(400, TimeBudget.Steps(130, 100, 350, costs, cap: long.MaxValue));
        // Not even the last epoch's end and the evaluation fit: the run ends where it is.
        Assert.Equal(13, TimeBudget.Steps(13, 100, 55, costs, cap: long.MaxValue));
    }

    [Theory]
    [InlineData(400, 100, 1.0, 100)] // the configured warm-up of one epoch
    [InlineData(150, 100, 1.0, 75)] // at most half the run
    [InlineData(400, 100, 0.25, 25)]
    [InlineData(401, 100, 0.125, 13)] // 12.5 rounds away from zero, as an epoch-counted warm-up does
    public void TheWarmUpIsTheConfiguredOneAtMostHalfTheRun(long steps, int batchesPerEpoch, double warmupEpochs, long expected) =>
        Assert.Equal(new TimePlan(steps, expected), TimeBudget.Plan(steps, batchesPerEpoch, warmupEpochs));

    [Fact]
    public void APlanIsRecordedAsWholeEpochsOrAsStepsWhenItEndsInsideOne()
    {
        var trainer = new TrainerOptions { MaxEpochs = TrainerOptions.AsTimeAllows, MaxTime = TimeSpan.FromMinutes(15) };
        var whole = TimeBudget.Apply(trainer, new TimePlan(400, 100), 100);
        Assert.Equal((4, (long?)null, TimeSpan.FromMinutes(15)), (whole.MaxEpochs, whole.MaxSteps, whole.MaxTime));
        var inside = TimeBudget.Apply(trainer, new TimePlan(401, 100), 100);
        Assert.Equal((5, (long?)401), (inside.MaxEpochs, inside.MaxSteps));
    }

    [Fact]
    public void ANewRunWithABudgetTrainsAsManyEpochsAsItAllowsUnlessEpochsWereChosen()
    {
        var budget = TimeSpan.FromMinutes(15);
        var open = PretrainSetup.Resolve("cpu-small", explicitly: o => o with { Trainer = o.Trainer with { MaxTime = budget } });
        Assert.Equal(TrainerOptions.AsTimeAllows, open.Trainer.MaxEpochs);
        var capped = PretrainSetup.Resolve("cpu-small", explicitly: o => o with { Trainer = o.Trainer with { MaxTime = budget, MaxEpochs = 2 } }, epochsChosen: true);
        Assert.Equal(2, capped.Trainer.MaxEpochs);
        Assert.Equal(2, PretrainSetup.Resolve("cpu-small").Trainer.MaxEpochs);
    }

    [Fact]
    [Trait(Category.Name, Category.Slow)]
    public void APlannedScheduleDecaysToZeroAtThePlansLastStepAndAResumedRunKeepsIt()
    {
        var tiny = PretrainerTests.Tiny();
        var options = tiny with { Trainer = tiny.Trainer with { MaxTime = TimeSpan.FromMinutes(1), MaxEpochs = TrainerOptions.AsTimeAllows } };
        using var module = new PretrainModule(options, CPU, batchesPerEpoch: 3);
        module.UsePlan(new TimePlan(7, 2));
        Assert.Equal(new LearningRateSchedule(2, 7, DecayKind.Cosine), module.Schedule);
        Assert.Equal(0, module.Schedule.Factor(7), 12);
        Assert.Equal((3, (long?)7), (module.Options.Trainer.MaxEpochs, module.Options.Trainer.MaxSteps));

        var path = Path.Combine(TempDir.Create(), "last.ckpt");
        TrainingCheckpoint.Save(path, module.Options, new TrainingPosition(1, 1, 4), module.Model, module.Optimizer, null);
        var checkpoint = TrainingCheckpoint.Read(path);
        var resumed = PretrainSetup.Resolve("cpu-small", resume: checkpoint);
        Assert.Equal((new TimePlan(7, 2), (long?)7, TimeSpan.FromMinutes(1)), (resumed.Trainer.Plan, resumed.Trainer.MaxSteps, resumed.Trainer.MaxTime));
        // A length typed on resuming decides afresh: the plan goes, the budget plans again from there.
        var longer = PretrainSetup.Resolve("cpu-small", resume: checkpoint, explicitly: o => o with { Trainer = o.Trainer with { MaxEpochs = 5 } });
        Assert.Null(longer.Trainer.Plan);
        Assert.Equal(TimeSpan.FromMinutes(1), longer.Trainer.MaxTime);
    }
}

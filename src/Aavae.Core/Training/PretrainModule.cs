using Aavae.Optimization;
using Aavae.Data;
using Aavae.Models;
using Aavae.Kernels;
using Aavae.Objectives;
using Aavae.Runtime;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;
using Aavae.Options;

namespace Aavae.Training;

/// <summary>
/// The model and how it learns (Lightning's LightningModule for AAVAE): the networks with the run's
/// objective, the optimizer over the reference's parameter groups, and the per-step warm-up and
/// decay schedule; a training step and a validation step.
/// </summary>
public sealed class PretrainModule : ITrainingModule, IDisposable
{
    /// <param name="notes">Told what the convolution guard reroutes on this CPU, at setup and when a layer first meets a call.</param>
    public PretrainModule(PretrainOptions options, Device device, int batchesPerEpoch, Action<string>? notes = null)
    {
        Options = options;
        Device = device;
        BatchesPerEpoch = batchesPerEpoch;
        Model = new AavaeModel(options.Model, AavaeModel.ObjectiveFor(options.Model.Kind, options.Objective.KlCoeff));
        try
        {
            Model.to(device);
            ChannelsLast.Apply(Model, options.Trainer.MemoryFormat);
            MixedPrecision.Apply(Model, options.Trainer.Precision);
            // Every convolution as it will compute here (layout, precision, each call's batch) is checked before it runs.
            KernelCheck = KernelGuard.Shared.Protect(Model, device, notes);
            var groups = ParameterGroups.Create(Model, options.Optimizer.WeightDecay, options.Optimizer.ExcludeBnBias);
            Trainable = groups.SelectMany(g => g.Parameters).ToList();
            Optimizer = options.Optimizer.Algorithm == OptimizerKind.Lamb ? new Lamb(groups, options.Optimizer.LearningRate) : new AdamOptimizer(groups, options.Optimizer.LearningRate);
            Scaler = options.Trainer.Precision == Precision.Fp16Mixed ? new GradScaler() : null;
            Schedule = ScheduleOf(options, batchesPerEpoch);
        }
        catch
        {
            Model.Dispose();
            throw;
        }
    }

    public PretrainOptions Options { get; private set; }
    public Device Device { get; }
    public int BatchesPerEpoch { get; }
    public AavaeModel Model { get; }
    /// <summary>What the convolution check found on this CPU and which layers it rerouted.</summary>
    public KernelReport KernelCheck { get; }
    public IStepOptimizer Optimizer { get; }
    public LearningRateSchedule Schedule { get; private set; }

    /// <summary>A time budget fixed the run's length: the options record it, and the schedule's warm-up and decay follow it from the next step.</summary>
    public void UsePlan(TimePlan plan)
    {
        Options = Options with { Trainer = TimeBudget.Apply(Options.Trainer, plan, BatchesPerEpoch) };
        Schedule = ScheduleOf(Options, BatchesPerEpoch);
    }

    /// <summary>The reference's schedule over max_epochs, or the one a time budget fitted to its steps.</summary>
    private static LearningRateSchedule ScheduleOf(PretrainOptions options, int batchesPerEpoch) =>
        options.Trainer.Plan is { } plan
            ? new LearningRateSchedule(plan.WarmupSteps, plan.Steps, options.Optimizer.Decay)
            : LearningRateSchedule.ForEpochs(batchesPerEpoch, options.Optimizer.WarmupEpochs, options.Trainer.MaxEpochs, options.Optimizer.Decay);
    public GradScaler? Scaler { get; }
    /// <summary>The parameters the optimizer updates, in its order: where gradients are averaged across processes.</summary>
    public IReadOnlyList<Parameter> Trainable { get; }

    /// <summary>Loss and metrics of one training batch at the learning rate of step <paramref name="globalStep"/>.</summary>
    public (ObjectiveOutput Output, double LearningRate) TrainingStep(ViewBatch batch, long globalStep)
    {
        Model.train();
        double lr = Options.Optimizer.LearningRate * Schedule.Factor(globalStep);
        Optimizer.SetLearningRate(lr);
        int every = Options.Objective.OriginalEvery;
        return (Model.forward(batch.X, batch.Original, samples: 1, encodeOriginal: every > 0 && globalStep % every == 0), lr);
    }

    /// <summary>Loss and metrics with val_samples posterior samples per image; the caller sets eval mode and turns gradients off.</summary>
    public ObjectiveOutput ValidationStep(ViewBatch batch) => Model.forward(batch.X, batch.Original, Options.Objective.ValSamples);

    public nn.Module<Tensor, Tensor> Encoder => Model.Encoder;

    public void SetTraining(bool training) => Model.train(training);

    public void Dispose()
    {
        Optimizer.Dispose();
        Model.Dispose();
    }
}

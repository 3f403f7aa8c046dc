using System.Collections;
using Aavae.Checkpoints;
using Aavae.Optimization;
using Aavae.Training;
using static TorchSharp.torch;

using Aavae.Tests.Training;

namespace Aavae.Tests.Checkpoints;

/// <summary>What a training checkpoint carries besides weights and optimizer: here, the loss scaler of a 16-mixed run.</summary>
public class TrainingCheckpointTests
{
    [Fact]
    public void TheLossScalersStateTravelsUnderLightningsKeyAndOnlyWhenThereIsOne()
    {
        var dir = TempDir.Create();
        using var module = new PretrainModule(PretrainerTests.Tiny(), CPU, batchesPerEpoch: 1);
        var scaler = new GradScaler(initScale: 8, growthInterval: 3);
        scaler.Update(true);
        var withScaler = Path.Combine(dir, "amp.ckpt");
        var without = Path.Combine(dir, "plain.ckpt");
        TrainingCheckpoint.Save(withScaler, module.Options, new TrainingPosition(1, 0, 1), module.Model, module.Optimizer, null, scaler);
        TrainingCheckpoint.Save(without, module.Options, new TrainingPosition(1, 0, 1), module.Model, module.Optimizer, null);

        var state = (IDictionary)TorchFile.Read(withScaler)["native_amp_scaling_state"]!;
        Assert.Equal((8.0, 1L), (Convert.ToDouble(state["scale"]), Convert.ToInt64(state["_growth_tracker"])));
        Assert.False(TorchFile.Read(without).ContainsKey("native_amp_scaling_state"));

        using var resumed = new PretrainModule(PretrainerTests.Tiny(), CPU, batchesPerEpoch: 1);
        var restored = new GradScaler();
        TrainingCheckpoint.Read(withScaler).Restore(resumed.Model, resumed.Optimizer, null, withScaler, restored);
        Assert.Equal((8.0, 1), (restored.Scale, restored.GrowthTracker));
    }
}

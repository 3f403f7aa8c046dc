using Aavae.Optimization;
using System.Collections;
using Aavae.Checkpoints;
using Aavae.Models;
using Aavae.Training;
using static TorchSharp.torch;

namespace Aavae.Tests.Interop;

/// <summary>
/// <c>pretrain --resume</c> (the reference's <c>--ckpt_path</c>) on a checkpoint PyTorch wrote as the
/// reference's vae.py does after one epoch of three: configuration from its hyper_parameters, epoch and
/// step from Lightning's counters, every Adam moment on the parameter it belongs to although the two
/// models number their parameters differently, and the run carried on to its end.
/// </summary>
public class ReferenceResumeTests
{
    private static string MakeRun(bool excludeBnBias)
    {
        var path = Path.Combine(TempDir.Create(), "reference.ckpt");
        ReferenceFixtures.RunPython("run", path, excludeBnBias.ToString());
        return path;
    }

    [RequiresTheory(Need.PyTorch)]
    [InlineData(false)]
    [InlineData(true)]
    public void EveryAdamMomentLandsOnItsParameter(bool excludeBnBias)
    {
        var path = MakeRun(excludeBnBias);
        var checkpoint = TrainingCheckpoint.Read(path);
        var o = checkpoint.Options;
        Assert.Equal(CheckpointFormat.Lightning, checkpoint.Format);
        Assert.Equal(("resnet18", "decoder50", 4, 8, ModelKind.Aavae), (o.Model.Encoder, o.Model.DecoderName, o.Model.Width, o.Model.LatentDim, o.Model.Kind));
        Assert.Equal(("fashion-mnist", 16, 1e-3, 1, 3, true, 0.0, excludeBnBias), (o.Data.Dataset.Name, o.Data.BatchSize, o.Optimizer.LearningRate, o.Optimizer.WarmupEpochs, o.Trainer.MaxEpochs, o.Augmentation.Denoising, o.Objective.KlCoeff, o.Optimizer.ExcludeBnBias));
        // vae.py keeps jitter_strength among the hyper-parameters (the fixture's is not Fashion-MNIST's 0.5).
        Assert.Equal(0.25, o.Augmentation.JitterStrength);
        // Lightning 1.3 stores the next epoch (1) and global_step + 1; the LambdaLR state says 3 steps.
        Assert.Equal(new TrainingPosition(1, 0, 3), checkpoint.Position);

        using var scope = NewDisposeScope();
        using var model = new AavaeModel(o.Model);
        var groups = ParameterGroups.Create(model, o.Optimizer.WeightDecay, o.Optimizer.ExcludeBnBias);
        using var adam = new AdamOptimizer(groups, o.Optimizer.LearningRate);
        checkpoint.Restore(model, adam, null, "test");

        var expected = TorchFile.Read(path + ".expected.pt");
        var expAvg = StateDicts.Select((IDictionary)expected["exp_avg"]!, "");
        var expAvgSq = StateDicts.Select((IDictionary)expected["exp_avg_sq"]!, "");
        var state = (IDictionary)adam.StateDict()["state"];
        var names = ParameterGroups.Split(model.named_parameters().Select(p => (p.name, p.parameter)), o.Optimizer.ExcludeBnBias).SelectMany(g => g).Select(p => p.Name).ToList();
        Assert.Equal(expAvg.Keys.Order(), names.Order());
        for (int i = 0; i < names.Count; i++)
        {
            var s = (IDictionary)state[i]!;
            Assert.True(Same((Tensor)s["exp_avg"]!, expAvg[names[i]]), $"exp_avg of {names[i]}");
            Assert.True(Same((Tensor)s["exp_avg_sq"]!, expAvgSq[names[i]]), $"exp_avg_sq of {names[i]}");
            Assert.Equal(3L, OptimizerState.ToLong(s["step"]!));
        }
        var weights = StateDicts.Select(checkpoint.StateDict, "");
        foreach (var (name, t) in model.state_dict()) Assert.True(Same(t, weights[name]), name);
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [RequiresFact(Need.PyTorch)]
    public void TheReferencesCkptPathContinuesTheRunToItsEnd()
    {
        var path = MakeRun(excludeBnBias: false);
        var dir = TempDir.Create();
        var (code, output, err) = CliRunner.Run(dir, ["pretrain", "--ckpt_path", path, "--output", "run", "--limit-train-batches", "2", "--limit-val-batches", "1",
            "--knn-every", "0", "--device", "cpu"]);
        Assert.True(code == 0, output + err);
        Assert.Contains("continuing the reference's run", output);
        var last = TrainingCheckpoint.Read(Path.Combine(dir, "run", "checkpoints", "last.ckpt"));
        // Epochs 1 and 2 of 3, two steps each, after the reference's three.
        Assert.Equal(new TrainingPosition(3, 0, 7), last.Position);
        Assert.Equal(("decoder50", 16, 1e-3), (last.Options.Model.DecoderName, last.Options.Data.BatchSize, last.Options.Optimizer.LearningRate));
        var metrics = File.ReadAllLines(Path.Combine(dir, "run", "metrics.csv"));
        Assert.Equal(3, metrics.Length); // header and epochs 1 and 2
    }

    [Theory]
    [InlineData("1.3.8", 4L, 50L, null, 4, 49L)]   // stores the next epoch and global_step + 1
    [InlineData("1.9.0", 4L, 50L, null, 5, 50L)]   // stores the finished epoch and the true step count
    [InlineData("1.3.8", 4L, 50L, 44L, 4, 44L)]    // the LambdaLR state wins: it steps once per optimizer step
    public void LightningsCountersMeanWhatTheirVersionSays(string version, long epoch, long globalStep, long? schedulerSteps, int nextEpoch, long steps)
    {
        var content = new Hashtable { ["pytorch-lightning_version"] = version, ["epoch"] = epoch, ["global_step"] = globalStep };
        if (schedulerSteps is long s) content["lr_schedulers"] = new ArrayList { new Hashtable { ["last_epoch"] = s } };
        Assert.Equal(new TrainingPosition(nextEpoch, 0, steps), LightningRun.Position(content, "test"));
    }

    [Fact]
    public void AWeightsOnlyFileIsNotARunToContinue()
    {
        var path = Path.Combine(TempDir.Create(), "weights.pt");
        TorchFile.Write(path, new Hashtable { ["state_dict"] = new Dictionary<string, object> { ["encoder.conv1.weight"] = zeros(4, 3, 3, 3) } });
        var e = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Read(path));
        Assert.Contains("init_from", e.Message);
    }
}

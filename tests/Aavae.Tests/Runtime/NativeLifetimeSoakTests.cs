using Aavae.Progress;
using Aavae.Augmentation;
using Aavae.Checkpoints;
using Aavae.Models;
using Aavae.Training;
using static TorchSharp.torch;
using Aavae.Runs;
using Aavae.Options;

namespace Aavae.Tests.Runtime;

/// <summary>
/// Native objects are never freed while libtorch uses them. TorchSharp frees an implicitly
/// converted Scalar (<c>0.299 * t</c>, <c>1 - t</c>, the alpha of <c>a + b</c>) and a tensor
/// outside any dispose scope only in its finalizer; a garbage collection started by another thread
/// while the native call runs can free it under libtorch's feet ("Expected false to be true ...
/// toFloat", "Tensor invalid -- empty handle"). Here a second thread forces collections and runs
/// finalizers without pause while the hot paths run thousands of times.
/// </summary>
[Trait(Category.Name, Category.Slow)]
public class NativeLifetimeSoakTests
{
    private sealed class CollectorThread : IDisposable
    {
        private volatile bool stop;
        private readonly Thread thread;
        public long Collections;

        public CollectorThread()
        {
            thread = new Thread(() =>
            {
                while (!stop)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    Collections++;
                    Thread.Sleep(1); // let the hot path run between collections
                }
            }) { IsBackground = true };
            thread.Start();
        }

        public void Dispose()
        {
            stop = true;
            thread.Join();
        }
    }

    [Fact]
    public void AugmentationSurvivesThousandsOfBatchesUnderConstantCollection()
    {
        var view = new SimClrView(32, jitterStrength: 0.5, blur: true);
        var rng = new Random(1);
        using var images = rand(8, 3, 32, 32);
        using var collector = new CollectorThread();
        double checksum = 0;
        for (int i = 0; i < 3000; i++)
        {
            using var scope = NewDisposeScope();
            var x = view.Apply(images, rng);
            var gray = ColorOps.Grayscale(x);
            if (i % 100 == 0) checksum += gray.mean().item<float>();
        }
        Assert.True(collector.Collections > 100, $"only {collector.Collections} collections ran alongside");
        Assert.True(double.IsFinite(checksum));
    }

    [Fact]
    public void TrainingAndCheckpointWritesSurviveConstantCollection()
    {
        // 300 steps and 12 checkpoint writes: the collector runs well over a hundred collections in
        // them (the assertion below), and the implicit-scalar IL test keeps the hot paths free of the
        // finalizer-freed objects this soak would catch; 1,000 steps cost a third of the suite's time.
        var options = Aavae.Tests.Training.PretrainerTests.TinyWith(t => t with { MaxEpochs = 12, LimitTrainBatches = 25, CheckpointEvery = 1 }, m => m with { OnlineFt = false });
        var run = RunFolder.CreateNew(Path.Combine(TempDir.Create(), "soak"), overwrite: false);
        using var collector = new CollectorThread();
        using (var trainer = new Pretrainer(options, run, new SilentObserver()))
        {
            var result = trainer.Run();
            Assert.Equal(300, result.Position.GlobalStep);
        }
        // Repeated writes of the same weights, as export and checkpointing do.
        using var weights = PretrainedWeights.Read(run.LastCheckpoint);
        using var model = weights.BuildModel(out _);
        for (int i = 0; i < 50; i++)
        {
            var path = Path.Combine(TempDir.Create(), "model.pt");
            TorchFile.Write(path, StateDicts.WithPrefix(model, ""));
            using var back = PretrainedWeights.Read(path);
            Assert.Equal(weights.StateDict.Count, back.StateDict.Count);
        }
        Assert.True(collector.Collections > 100, $"only {collector.Collections} collections ran alongside");
    }
}

internal static class PretrainerTestsAccess
{
    public static PretrainOptions Tiny() => Aavae.Tests.Training.PretrainerTests.Tiny();
}

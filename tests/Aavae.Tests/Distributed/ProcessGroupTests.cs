using System.Collections;
using Aavae.Distributed;
using Aavae.Training;
using static TorchSharp.torch;

namespace Aavae.Tests.Distributed;

/// <summary>Launcher detection, threads per process, and the gradient bucket in one process.</summary>
public class ProcessGroupTests
{
    [Fact]
    public void WithoutALauncherThereIsNoMpiToLoad()
    {
        Assert.Null(ProcessGroups.Detect(new Hashtable { ["PATH"] = "/usr/bin" }));
        Assert.Null(ProcessGroups.Detect(new Hashtable { ["SLURM_NTASKS"] = "4" }));  // an allocation, not a task started by srun
    }

    [Fact]
    public void EachLauncherIsRecognisedWithItsOwnLibrariesFirst()
    {
        var ompi = ProcessGroups.Detect(new Hashtable { ["OMPI_COMM_WORLD_SIZE"] = "4", ["PMIX_RANK"] = "0" })!;
        Assert.Equal(4, ompi.Size);
        Assert.Equal("libmpi.so.40", ompi.Libraries[0]);
        var hydra = ProcessGroups.Detect(new Hashtable { ["PMI_SIZE"] = "2", ["PMI_RANK"] = "1" })!;
        Assert.Equal(2, hydra.Size);
        Assert.Equal("libmpich.so.12", hydra.Libraries[0]);
        var srun = ProcessGroups.Detect(new Hashtable { ["SLURM_NTASKS"] = "8", ["SLURM_PROCID"] = "3", ["SLURM_STEP_ID"] = "0" })!;
        Assert.Equal(8, srun.Size);
        var chosen = ProcessGroups.Detect(new Hashtable { ["PMI_SIZE"] = "2", [ProcessGroups.LibraryVariable] = "/opt/intel/mpi/lib/libmpi.so.12" })!;
        Assert.Equal(["/opt/intel/mpi/lib/libmpi.so.12"], chosen.Libraries);
    }

    [Fact]
    public void AMissingLibraryIsNamedInOneLine()
    {
        var e = Assert.Throws<MpiUnavailableException>(() => MpiLibrary.Load(["libmpi-that-is-not-here.so.99"]));
        Assert.Contains("libmpi-that-is-not-here.so.99", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData(2, 2, 1)]
    [InlineData(2, 1, 2)]
    [InlineData(64, 4, 16)]
    [InlineData(1, 2, 1)]  // Open MPI binds each of two processes to one core
    public void ThreadsAreTheCoresSharedAmongTheMachinesProcesses(int cores, int processes, int threads) =>
        Assert.Equal(threads, ProcessGroups.ThreadsPerProcess(cores, processes));

    /// <summary>FNV-1a's published 32-bit test vectors (Fowler, Noll, Vo).</summary>
    [Theory]
    [InlineData("", 0x811c9dc5u)]
    [InlineData("a", 0xe40c292cu)]
    [InlineData("foobar", 0xbf9cf968u)]
    public void NamesHashAsFnv1a(string text, uint hash) => Assert.Equal(hash, MpiProcessGroup.Fnv1a(text));

    [Fact]
    public void GradientsBecomeViewsOfOneBufferAndStayThereThroughLaterSteps()
    {
        var layer = nn.Linear(3, 2);
        var parameters = layer.parameters().ToList();
        using var bucket = new GradientBucket(new SingleProcess(), parameters, []);
        var x = tensor(new float[] { 1, 2, 3, -1, 0, 2 }).view(2, 3);

        layer.call(x).sum().backward();
        var metrics = new Dictionary<string, Tensor> { ["loss"] = tensor(5f) };
        Assert.True(bucket.Average(metrics, stopRequested: true));
        Assert.Equal(5f, metrics["loss"].item<float>());
        Assert.Equal(2 * 3 + 2 + GradientBucket.MetricSlots, bucket.Floats);

        // A second step: zeroed in place (as the optimizers do), then accumulated by backward into the same memory.
        foreach (var p in parameters) p.grad!.zero_();
        layer.call(x.mul(2)).sum().backward();
        Assert.False(bucket.Average(metrics, stopRequested: false));
        // d(sum of W (2x) + b)/dW = column sums of 2x for each output row; /db = batch size.
        float[] expected = [0, 4, 10, 0, 4, 10, 2, 2];
        Assert.Equal(expected, cat(parameters.Select(p => p.grad!.flatten()).ToArray()).data<float>().ToArray());
        Assert.Equal(bucket.Averaged.Count, parameters.Count);
    }
}

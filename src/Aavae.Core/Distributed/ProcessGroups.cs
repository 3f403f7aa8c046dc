using System.Collections;
using static TorchSharp.torch;

namespace Aavae.Distributed;

/// <summary>
/// Starts the job's process group: MPI when a launcher started this process with more than one
/// process, else a <see cref="SingleProcess"/>, so users without MPI need nothing installed.
/// </summary>
public static class ProcessGroups
{
    /// <summary>Environment variable naming the MPI library to load, for an MPI this project does not know by name.</summary>
    public const string LibraryVariable = "AAVAE_MPI_LIBRARY";

    /// <summary>How long a process other than rank 0 waits, on an error in the settings, for rank 0 to say it first.</summary>
    private static readonly TimeSpan SameErrorGrace = TimeSpan.FromSeconds(5);

    // Sonames: Open MPI 3-5; MPICH 3-4 (libmpi.so.12 is also Intel MPI's and MVAPICH's).
    private static readonly string[] OpenMpiLibraries = ["libmpi.so.40", "libmpi.so"];
    private static readonly string[] MpichLibraries = ["libmpich.so.12", "libmpi.so.12"];

    /// <summary>What the environment says about the launcher: its name, the job's size, and which MPI libraries to try in order; null outside a launcher.</summary>
    public sealed record Launch(string Launcher, int Size, IReadOnlyList<string> Libraries);

    public static Launch? Detect(IDictionary environment)
    {
        string? Get(string name) => environment[name] as string;
        int? Size(string name) => int.TryParse(Get(name), out var n) ? n : null;
        IReadOnlyList<string> Libraries(params string[][] families) =>
            Get(LibraryVariable) is { Length: > 0 } chosen ? [chosen] : families.SelectMany(f => f).ToArray();

        if (Size("OMPI_COMM_WORLD_SIZE") is int ompi) return new Launch("Open MPI's mpirun", ompi, Libraries(OpenMpiLibraries));
        if (Size("PMI_SIZE") is int pmi) return new Launch("a PMI launcher (MPICH's mpiexec, Intel MPI, srun --mpi=pmi2)", pmi, Libraries(MpichLibraries, OpenMpiLibraries));
        if (Size("PMIX_SIZE") is int pmix) return new Launch("a PMIx launcher (srun --mpi=pmix, prterun)", pmix, Libraries(OpenMpiLibraries, MpichLibraries));
        if (Size("SLURM_NTASKS") is int slurm && Get("SLURM_PROCID") is not null && Get("SLURM_STEP_ID") is not null)
            return new Launch("Slurm's srun", slurm, Libraries(OpenMpiLibraries, MpichLibraries));
        return null;
    }

    /// <summary>
    /// The process group of this process: MPI under a launcher of two or more processes, else a
    /// single process. With MPI, libtorch's threads are split among the processes on the machine
    /// (cores / processes, at least one), unless OMP_NUM_THREADS says otherwise.
    /// </summary>
    public static IProcessGroup Start()
    {
        if (Detect(Environment.GetEnvironmentVariables()) is not { Size: > 1 } launch) return new SingleProcess();
        if (!OperatingSystem.IsLinux())
            throw new MpiUnavailableException($"{launch.Launcher} started {launch.Size} processes: data-parallel training is built for Linux MPI libraries (Open MPI, MPICH)");
        MpiLibrary library;
        try
        {
            library = MpiLibrary.Load(launch.Libraries);
        }
        catch (MpiUnavailableException e)
        {
            throw new MpiUnavailableException($"{launch.Launcher} started {launch.Size} processes, but {e.Message}: install the launcher's MPI (apt-get install openmpi-bin or mpich) or set {LibraryVariable} to its libmpi");
        }
        var group = new MpiProcessGroup(library);
        // Another family's library starts as a world of one: N separate trainings writing one run folder.
        if (group.Size != launch.Size)
            throw new MpiUnavailableException($"{launch.Launcher} started {launch.Size} processes, but {library.Path} sees a world of {group.Size}: it is not the launcher's MPI (set {LibraryVariable} to the launcher's libmpi)");
        if (Environment.GetEnvironmentVariable("OMP_NUM_THREADS") is null)
            set_num_threads(ThreadsPerProcess(Environment.ProcessorCount, group.LocalSize));
        return group;
    }

    /// <summary>
    /// Runs <paramref name="body"/> in this process's group (<see cref="Start"/>). Under several
    /// processes a failure in one ends the whole job: the others would otherwise wait for it in
    /// their next collective forever. <paramref name="report"/> says the failure (prefixed with the
    /// rank) and gives the exit code the job aborts with.
    /// </summary>
    public static int Run(Func<IProcessGroup, int> body, Func<Exception, string, int> report)
    {
        using var group = Start();
        try
        {
            return body(group);
        }
        catch (Exception e) when (group.Size > 1)
        {
            // Every process reads the same settings and meets the same error in them: rank 0 says it
            // and ends the job, and the others say theirs only if it has not ended by then.
            if (e is Configuration.OptionException && group.Rank > 0) Thread.Sleep(SameErrorGrace);
            group.Abort(report(e, $"rank {group.Rank} of {group.Size}: "));
            throw;
        }
    }

    /// <summary>
    /// Whether bfloat16 convolutions outrun float32 ones on every process's CPU (a collective: every
    /// process asks): one run computes in one precision, so "auto" takes bfloat16 only then.
    /// </summary>
    public static bool AllComputeBf16Faster(this IProcessGroup group) =>
        group.Size == 1 ? Runtime.CpuInfo.Bf16IsFaster : !group.Any(!Runtime.CpuInfo.Bf16IsFaster);

    /// <summary>The cores a process may use when <paramref name="localSize"/> processes share <paramref name="cores"/>.</summary>
    public static int ThreadsPerProcess(int cores, int localSize) => Math.Max(1, cores / Math.Max(1, localSize));
}

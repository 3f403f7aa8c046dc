using System.Runtime.InteropServices;

namespace Aavae.Distributed;

/// <summary>
/// The processes an MPI launcher started (<c>mpirun</c>, <c>mpiexec</c>, <c>srun</c>), over
/// MPI_COMM_WORLD. Large buffers go in chunks, as MPI counts are 32-bit.
/// </summary>
public sealed unsafe class MpiProcessGroup : IProcessGroup
{
    private const int Chunk = 1 << 28;
    private readonly MpiLibrary mpi;
    private bool finalized;

    internal MpiProcessGroup(MpiLibrary mpi)
    {
        this.mpi = mpi;
        mpi.Init();
        Rank = mpi.Rank();
        Size = mpi.Size();
        (LocalRank, LocalSize) = LocalPlace();
        Places = Enumerable.Range(0, Size).Select(r => this.BroadcastString(r == Rank ? ProcessGroups.Place() : null, root: r)).ToArray();
    }

    public int Rank { get; }
    public int Size { get; }
    public int LocalRank { get; }
    public int LocalSize { get; }
    public IReadOnlyList<string> Places { get; }
    public string Backend => $"{(mpi.Family == MpiFamily.OpenMpi ? "Open MPI" : "MPICH")} ({mpi.Path})";
    public MpiFamily Family => mpi.Family;

    public void AllReduceSum(Span<float> values)
    {
        fixed (float* p = values)
            for (int at = 0; at < values.Length; at += Chunk)
                mpi.AllReduceSum(p + at, Math.Min(Chunk, values.Length - at), MpiLibrary.Datatype.Float);
    }

    public void AllReduceSum(Span<double> values)
    {
        fixed (double* p = values)
            for (int at = 0; at < values.Length; at += Chunk)
                mpi.AllReduceSum(p + at, Math.Min(Chunk, values.Length - at), MpiLibrary.Datatype.Double);
    }

    public void Broadcast(Span<byte> bytes, int root)
    {
        fixed (byte* p = bytes)
            for (int at = 0; at < bytes.Length; at += Chunk)
                mpi.Broadcast(p + at, Math.Min(Chunk, bytes.Length - at), root);
    }

    public void Abort(int exitCode)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        LauncherPipes.WaitUntilRead(TimeSpan.FromSeconds(5));
        mpi.Abort(exitCode);
        Environment.Exit(exitCode);
    }

    /// <summary>
    /// Which processes share this machine, whatever the launcher: each process puts a hash of its
    /// host name in its own slot, one all-reduce shows everyone's.
    /// </summary>
    private (int LocalRank, int LocalSize) LocalPlace()
    {
        var hosts = new double[Size];
        hosts[Rank] = Fnv1a(System.Net.Dns.GetHostName());
        AllReduceSum(hosts);
        int localRank = 0, localSize = 0;
        for (int r = 0; r < Size; r++)
        {
            if (hosts[r] != hosts[Rank]) continue;
            if (r < Rank) localRank++;
            localSize++;
        }
        return (localRank, localSize);
    }

    /// <summary>FNV-1a, 32 bits: stable across processes (string.GetHashCode is randomised per process) and exact in a double.</summary>
    internal static uint Fnv1a(string text)
    {
        uint h = 2166136261;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(text)) h = (h ^ b) * 16777619;
        return h;
    }

    public void Dispose()
    {
        if (finalized) return;
        finalized = true;
        mpi.Shutdown();
    }
}

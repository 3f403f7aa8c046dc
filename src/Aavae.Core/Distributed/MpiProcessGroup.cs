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
        Places = Enumerable.Range(0, Size).Select(r => ProcessPlace.Parse(this.BroadcastString(r == Rank ? ProcessPlace.This.ToString() : null, root: r))).ToArray();
        // Which processes share this machine, whatever the launcher: those of this one's host name.
        var here = Places[Rank].Host;
        LocalRank = Places.Take(Rank).Count(p => p.Host == here);
        LocalSize = Places.Count(p => p.Host == here);
    }

    public int Rank { get; }
    public int Size { get; }
    public int LocalRank { get; }
    public int LocalSize { get; }
    public IReadOnlyList<ProcessPlace> Places { get; }
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

namespace Aavae.Distributed;

/// <summary>
/// The processes of one data-parallel job and the collectives training needs (torch.distributed's
/// process group, reduced to what AAVAE uses). Every process must make the same calls in the same
/// order; a call waits until all have made it.
/// </summary>
public interface IProcessGroup : IDisposable
{
    /// <summary>This process's number, 0 to <see cref="Size"/> - 1; rank 0 writes the run's files.</summary>
    int Rank { get; }

    int Size { get; }

    /// <summary>This process's number among the processes on its machine (its GPU with <c>--gpus</c>).</summary>
    int LocalRank { get; }

    /// <summary>How many of the job's processes share this machine (they share its cores).</summary>
    int LocalSize { get; }

    /// <summary>
    /// Where each rank runs, by rank: a launcher names a lost process by its pid and host (MPICH)
    /// or its rank (Open MPI); this maps one to the other, and tells which processes share a machine.
    /// </summary>
    IReadOnlyList<ProcessPlace> Places { get; }

    /// <summary>What carries the collectives: "single process", "Open MPI", "MPICH".</summary>
    string Backend { get; }

    /// <summary>Replaces each value by its sum over all processes.</summary>
    void AllReduceSum(Span<float> values);

    /// <inheritdoc cref="AllReduceSum(Span{float})"/>
    void AllReduceSum(Span<double> values);

    /// <summary>Replaces <paramref name="bytes"/> on every process by <paramref name="root"/>'s.</summary>
    void Broadcast(Span<byte> bytes, int root);

    /// <summary>Ends every process of the job with <paramref name="exitCode"/> (MPI_Abort): one process's failure must not leave the others waiting.</summary>
    void Abort(int exitCode);
}

/// <summary>A process of the job: its machine's host name and its process id, written "host:pid".</summary>
public sealed record ProcessPlace(string Host, int Pid)
{
    public static ProcessPlace This => new(System.Net.Dns.GetHostName(), Environment.ProcessId);

    /// <summary>Reads "host:pid".</summary>
    public static ProcessPlace Parse(string text)
    {
        int colon = text.LastIndexOf(':');
        return new(text[..colon], int.Parse(text[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    public override string ToString() => $"{Host}:{Pid}";
}

/// <summary>What a process group means for the data.</summary>
public static class ProcessGroupShards
{
    /// <summary>This process's part of every global batch.</summary>
    public static Aavae.Data.Shard Shard(this IProcessGroup group) => new(group.Rank, group.Size);
}

/// <summary>One process on its own: every collective is the identity.</summary>
public sealed class SingleProcess : IProcessGroup
{
    public int Rank => 0;
    public int Size => 1;
    public int LocalRank => 0;
    public int LocalSize => 1;
    public IReadOnlyList<ProcessPlace> Places { get; } = [ProcessPlace.This];
    public string Backend => "single process";
    public void AllReduceSum(Span<float> values) { }
    public void AllReduceSum(Span<double> values) { }
    public void Broadcast(Span<byte> bytes, int root) { }
    public void Abort(int exitCode) => Environment.Exit(exitCode);
    public void Dispose() { }
}

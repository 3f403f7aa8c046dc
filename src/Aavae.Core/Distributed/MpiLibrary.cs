using System.Runtime.InteropServices;

namespace Aavae.Distributed;

/// <summary>The two binary interfaces of MPI: Open MPI's handles are pointers to exported objects; the MPICH family's (MPICH, Intel MPI, MVAPICH, Cray) are integers.</summary>
public enum MpiFamily { OpenMpi, Mpich }

/// <summary>An MPI library could not be loaded or started; the message says which and what to install.</summary>
public sealed class MpiUnavailableException(string message) : Exception(message);

/// <summary>
/// The MPI C API calls data-parallel training makes (MPI-3: init, rank, size, all-reduce, broadcast,
/// abort, finalize), called through function pointers into the launcher's own libmpi. No NuGet
/// MPI binding fits: MPI.NET hard-codes MS-MPI's integer handles (Open MPI's are pointers) and its
/// object API needs BinaryFormatter, gone from .NET 10.
/// </summary>
internal sealed unsafe class MpiLibrary
{
    // MPICH's mpi.h (the MPICH ABI, shared by Intel MPI, MVAPICH and Cray MPICH).
    private const int MpichCommWorld = 0x44000000, MpichFloat = 0x4c00040a, MpichDouble = 0x4c00080b, MpichByte = 0x4c00010d, MpichSum = 0x58000003;
    private const int ThreadFunneled = 1;
    // dlopen flags: the library's symbols global, as mpi4py loads it, so Open MPI's plugins can bind to them.
    private const int RtldNow = 2, RtldGlobal = 0x100;

    public enum Datatype { Float, Double, Byte }

    private readonly nint comm, floatType, doubleType, byteType, sum, inPlace;
    private readonly nint initThread, initialized, finalized, finalize, commRank, commSize, allreduce, bcast, abort;

    private MpiLibrary(string path, nint library)
    {
        Path = path;
        nint Export(string name) => NativeLibrary.TryGetExport(library, name, out var f) ? f
            : throw new MpiUnavailableException($"{path} has no {name}: not an MPI library");
        Family = NativeLibrary.TryGetExport(library, "ompi_mpi_comm_world", out _) ? MpiFamily.OpenMpi : MpiFamily.Mpich;
        if (Family == MpiFamily.OpenMpi)
        {
            // MPI_COMM_WORLD is &ompi_mpi_comm_world, and so on; MPI_IN_PLACE is (void*)1.
            (comm, floatType, doubleType, byteType, sum, inPlace) =
                (Export("ompi_mpi_comm_world"), Export("ompi_mpi_float"), Export("ompi_mpi_double"), Export("ompi_mpi_byte"), Export("ompi_mpi_op_sum"), 1);
        }
        else
        {
            (comm, floatType, doubleType, byteType, sum, inPlace) = (MpichCommWorld, MpichFloat, MpichDouble, MpichByte, MpichSum, -1);
        }
        initThread = Export("MPI_Init_thread");
        initialized = Export("MPI_Initialized");
        finalized = Export("MPI_Finalized");
        finalize = Export("MPI_Finalize");
        commRank = Export("MPI_Comm_rank");
        commSize = Export("MPI_Comm_size");
        allreduce = Export("MPI_Allreduce");
        bcast = Export("MPI_Bcast");
        abort = Export("MPI_Abort");
    }

    public string Path { get; }
    public MpiFamily Family { get; }

    /// <summary>Loads the first of <paramref name="candidates"/> that loads; says what each attempt found when none does.</summary>
    public static MpiLibrary Load(IReadOnlyList<string> candidates)
    {
        var failures = new List<string>();
        foreach (var name in candidates)
        {
            nint handle = dlopen(name, RtldNow | RtldGlobal);
            if (handle != 0) return new MpiLibrary(name, handle);
            failures.Add(Marshal.PtrToStringUTF8(dlerror()) ?? name);
        }
        throw new MpiUnavailableException($"no MPI library loads ({string.Join("; ", failures)})");
    }

    [DllImport("libdl.so.2")]
    private static extern nint dlopen([MarshalAs(UnmanagedType.LPUTF8Str)] string file, int flags);

    [DllImport("libdl.so.2")]
    private static extern nint dlerror();

    /// <summary>MPI_Init_thread with MPI_THREAD_FUNNELED (only the training thread calls MPI), unless the process already did.</summary>
    public void Init()
    {
        int flag;
        Check(((delegate* unmanaged<int*, int>)initialized)(&flag), "MPI_Initialized");
        if (flag != 0) return;
        int provided;
        Check(((delegate* unmanaged<int*, byte***, int, int*, int>)initThread)(null, null, ThreadFunneled, &provided), "MPI_Init_thread");
    }

    public void Shutdown()
    {
        int flag;
        Check(((delegate* unmanaged<int*, int>)finalized)(&flag), "MPI_Finalized");
        if (flag == 0) Check(((delegate* unmanaged<int>)finalize)(), "MPI_Finalize");
    }

    public int Rank() => CommQuery(commRank, "MPI_Comm_rank");

    public int Size() => CommQuery(commSize, "MPI_Comm_size");

    /// <summary>MPI_Allreduce(MPI_IN_PLACE, buffer, count, type, MPI_SUM, MPI_COMM_WORLD).</summary>
    public void AllReduceSum(void* buffer, int count, Datatype type)
    {
        int rc = Family == MpiFamily.OpenMpi
            ? ((delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)allreduce)((void*)inPlace, buffer, count, TypeHandle(type), sum, comm)
            : ((delegate* unmanaged<void*, void*, int, int, int, int, int>)allreduce)((void*)inPlace, buffer, count, (int)TypeHandle(type), (int)sum, (int)comm);
        Check(rc, "MPI_Allreduce");
    }

    /// <summary>MPI_Bcast(buffer, count, MPI_BYTE, root, MPI_COMM_WORLD).</summary>
    public void Broadcast(void* buffer, int count, int root)
    {
        int rc = Family == MpiFamily.OpenMpi
            ? ((delegate* unmanaged<void*, int, nint, int, nint, int>)bcast)(buffer, count, byteType, root, comm)
            : ((delegate* unmanaged<void*, int, int, int, int, int>)bcast)(buffer, count, (int)byteType, root, (int)comm);
        Check(rc, "MPI_Bcast");
    }

    public void Abort(int code)
    {
        if (Family == MpiFamily.OpenMpi) ((delegate* unmanaged<nint, int, int>)abort)(comm, code);
        else ((delegate* unmanaged<int, int, int>)abort)((int)comm, code);
    }

    private int CommQuery(nint function, string name)
    {
        int value;
        int rc = Family == MpiFamily.OpenMpi
            ? ((delegate* unmanaged<nint, int*, int>)function)(comm, &value)
            : ((delegate* unmanaged<int, int*, int>)function)((int)comm, &value);
        Check(rc, name);
        return value;
    }

    private nint TypeHandle(Datatype type) => type switch
    {
        Datatype.Float => floatType,
        Datatype.Double => doubleType,
        _ => byteType,
    };

    // MPI's default error handler aborts the job first; this catches libraries configured to return codes.
    private void Check(int rc, string call)
    {
        if (rc != 0) throw new MpiUnavailableException($"{call} failed with MPI error code {rc} ({Path})");
    }
}

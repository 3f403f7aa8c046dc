using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Distributed;

/// <summary>
/// Collectives on tensors, in place. MPI reads and writes host memory: a CPU tensor goes as it
/// is; a GPU tensor is staged through a host copy (a CUDA-aware MPI could take device memory
/// directly; not done here).
/// </summary>
public static class TensorCollectives
{
    /// <summary>Sums a contiguous float32 or float64 tensor over all processes, in place.</summary>
    public static void AllReduceSum(this IProcessGroup group, Tensor t)
    {
        if (group.Size == 1) return;
        if (!t.is_contiguous()) throw new ArgumentException("all-reduce needs a contiguous tensor");
        if (t.device_type != DeviceType.CPU)
        {
            using var host = t.cpu();
            group.AllReduceSum(host);
            using var _ = no_grad();
            t.copy_(host);
            return;
        }
        switch (t.dtype)
        {
            case ScalarType.Float32: group.AllReduceSum(MemoryMarshal.Cast<byte, float>(t.bytes)); break;
            case ScalarType.Float64: group.AllReduceSum(MemoryMarshal.Cast<byte, double>(t.bytes)); break;
            default: throw new ArgumentException($"all-reduce sums float32 or float64 tensors, not {t.dtype}");
        }
    }

    /// <summary>Replaces <paramref name="t"/>'s values on every process by <paramref name="root"/>'s (any dtype), in place.</summary>
    public static void Broadcast(this IProcessGroup group, Tensor t, int root = 0)
    {
        if (group.Size == 1) return;
        using var _ = no_grad();
        if (t.device_type != DeviceType.CPU || !t.is_contiguous())
        {
            using var cpu = t.cpu();
            using var host = cpu.contiguous();
            group.Broadcast(host, root);
            t.copy_(host);
            return;
        }
        group.Broadcast(t.bytes, root);
    }

    /// <summary>Every process gets <paramref name="root"/>'s text (the others pass anything, or null).</summary>
    public static string BroadcastString(this IProcessGroup group, string? text, int root = 0)
    {
        if (group.Size == 1) return text ?? throw new ArgumentNullException(nameof(text));
        var bytes = group.Rank == root ? System.Text.Encoding.UTF8.GetBytes(text ?? throw new ArgumentNullException(nameof(text))) : [];
        var length = BitConverter.GetBytes(bytes.Length);
        group.Broadcast(length, root);
        if (group.Rank != root) bytes = new byte[BitConverter.ToInt32(length)];
        group.Broadcast(bytes, root);
        return System.Text.Encoding.UTF8.GetString(bytes);
    }

    /// <summary>Whether any process says yes (a stop request, a failure): one small all-reduce.</summary>
    public static bool Any(this IProcessGroup group, bool local)
    {
        Span<double> flag = [local ? 1 : 0];
        group.AllReduceSum(flag);
        return flag[0] > 0;
    }
}

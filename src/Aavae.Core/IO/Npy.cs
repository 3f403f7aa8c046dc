using System.Text;

namespace Aavae.IO;

/// <summary>
/// NumPy's <c>.npy</c> format (version 1.0: magic, little-endian header dict, raw C-order data)
/// for float32 and int64 arrays, so Python reads the project's features with <c>numpy.load</c>.
/// </summary>
public static class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static void Write(string path, float[] data, long[] shape) => Write(path, "<f4", MemoryMarshalBytes(data), shape);

    public static void Write(string path, long[] data, long[] shape) => Write(path, "<i8", MemoryMarshalBytes(data), shape);

    private static byte[] MemoryMarshalBytes<T>(T[] data) where T : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()).ToArray();

    private static void Write(string path, string descr, byte[] bytes, long[] shape)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("npy writing assumes a little-endian machine");
        var dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        // Pad with spaces so magic + version + length + header + newline is a multiple of 64.
        int total = Magic.Length + 2 + 2 + header.Length + 1;
        header += new string(' ', (64 - total % 64) % 64) + "\n";
        AtomicFile.Write(path, s =>
        {
            s.Write(Magic);
            s.Write([1, 0]);
            s.Write(BitConverter.GetBytes((ushort)header.Length));
            s.Write(Encoding.ASCII.GetBytes(header));
            s.Write(bytes);
        });
    }

    /// <summary>Reads a float32 C-order array; anything else is refused with the reason.</summary>
    public static (float[] Data, long[] Shape) ReadFloat32(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file");
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        var magic = reader.ReadBytes(6);
        if (!magic.AsSpan().SequenceEqual(Magic)) throw new InvalidDataException($"{path}: not a NumPy .npy file");
        byte major = reader.ReadByte();
        reader.ReadByte();
        int headerLength = major == 1 ? reader.ReadUInt16() : (int)reader.ReadUInt32();
        var header = Encoding.ASCII.GetString(reader.ReadBytes(headerLength));
        if (!header.Contains("'descr': '<f4'")) throw new InvalidDataException($"{path}: expected a float32 array ('<f4'), header says {header.Trim()}");
        if (header.Contains("'fortran_order': True")) throw new InvalidDataException($"{path}: Fortran-ordered arrays are not supported; save with numpy.ascontiguousarray");
        int open = header.IndexOf("'shape': (", StringComparison.Ordinal) + 10, close = header.IndexOf(')', open);
        var shape = header[open..close].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var bytes = reader.ReadBytes(checked((int)(count * 4)));
        if (bytes.Length != count * 4) throw new InvalidDataException($"{path}: truncated: header promises {count} floats, file holds {bytes.Length / 4}");
        var data = new float[count];
        Buffer.BlockCopy(bytes, 0, data, 0, bytes.Length);
        return (data, shape);
    }
}

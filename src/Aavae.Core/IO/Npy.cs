using System.Text;
using Aavae.Embedding;

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

    /// <summary>
    /// Reads a float32 C-order array; anything else is refused with the reason. Every length the
    /// header gives is checked against the file's size before anything is allocated.
    /// </summary>
    public static (float[] Data, long[] Shape) ReadFloat32(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file");
        using var stream = File.OpenRead(path);
        long size = stream.Length;
        using var reader = new BinaryReader(stream);
        if (size < 10) throw new InvalidDataException($"{path}: not a NumPy .npy file ({size} bytes)");
        var magic = reader.ReadBytes(6);
        if (!magic.AsSpan().SequenceEqual(Magic)) throw new InvalidDataException($"{path}: not a NumPy .npy file");
        byte major = reader.ReadByte();
        reader.ReadByte();
        if (major is < 1 or > 3) throw new InvalidDataException($"{path}: .npy format version {major} (expected 1, 2 or 3)");
        if (major > 1 && size < 12) throw new InvalidDataException($"{path}: not a NumPy .npy file ({size} bytes)");
        long headerLength = major == 1 ? reader.ReadUInt16() : reader.ReadUInt32();
        if (headerLength > size - stream.Position)
            throw new InvalidDataException($"{path}: the .npy header says it is {headerLength} bytes long, the file holds {size - stream.Position} after it");
        var header = Encoding.ASCII.GetString(reader.ReadBytes((int)headerLength));
        if (!header.Contains("'descr': '<f4'")) throw new InvalidDataException($"{path}: expected a float32 array ('<f4'), header says {PrintableText.Of(header)}");
        if (header.Contains("'fortran_order': True")) throw new InvalidDataException($"{path}: Fortran-ordered arrays are not supported; save with numpy.ascontiguousarray");
        int open = header.IndexOf("'shape': (", StringComparison.Ordinal);
        int close = open < 0 ? -1 : header.IndexOf(')', open);
        if (close < 0) throw new InvalidDataException($"{path}: the .npy header has no shape tuple: {PrintableText.Of(header)}");
        var text = header[(open + 10)..close];
        var dims = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var shape = new long[dims.Length];
        long count = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (!long.TryParse(dims[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out shape[i]))
                throw new InvalidDataException($"{path}: the .npy shape ({PrintableText.Of(text)}) is not a tuple of whole numbers");
            // Against the file's size as we go, so the product cannot overflow.
            count = shape[i] == 0 ? 0 : count > (size / 4) / shape[i] ? long.MaxValue : count * shape[i];
        }
        long left = size - stream.Position;
        if (count == long.MaxValue || count * 4 != left)
            throw new InvalidDataException($"{path}: the .npy shape ({PrintableText.Of(text)}) needs {(count == long.MaxValue ? "more than the file's" : $"{count * 4}")} bytes of float32, the file holds {left}");
        if (count == 0) throw new InvalidDataException($"{path}: the array is empty (shape ({PrintableText.Of(text)}))");
        var data = new float[count];
        stream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("a big-endian machine");
        return (data, shape);
    }
}

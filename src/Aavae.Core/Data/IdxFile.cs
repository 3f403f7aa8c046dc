using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;

namespace Aavae.Data;

/// <summary>
/// Reader for the IDX format of MNIST and Fashion-MNIST (optionally gzipped): a big-endian
/// magic number 0x0000TTDD (TT = 0x08 for unsigned bytes, DD = number of dimensions), the
/// dimension sizes, then the raw data.
/// </summary>
public static class IdxFile
{
    public sealed record Content(int[] Shape, byte[] Data, string Sha256);

    public static Content Read(string path, int expectedDims)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
            ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        try
        {
            var header = ReadExactly(stream, 4, path, "header", sha);
            if (header[0] != 0 || header[1] != 0 || header[2] != 0x08 || header[3] != expectedDims)
                throw new InvalidDataException(
                    $"{path}: wrong magic number 0x{BinaryPrimitives.ReadUInt32BigEndian(header):X8}, expected 0x000008{expectedDims:X2} (unsigned bytes, {expectedDims} dimensions)");
            var dims = ReadExactly(stream, 4 * expectedDims, path, "dimensions", sha);
            var shape = Enumerable.Range(0, expectedDims).Select(i => BinaryPrimitives.ReadInt32BigEndian(dims.AsSpan(4 * i))).ToArray();
            // Each dimension positive and their product a possible array size, multiplied without overflow.
            long size = 1;
            foreach (int d in shape) size = d <= 0 || size > int.MaxValue / d ? long.MaxValue : size * d;
            if (size > Array.MaxLength)
                throw new InvalidDataException($"{path}: implausible dimensions [{string.Join(", ", shape)}]");
            var data = ReadExactly(stream, (int)size, path, "data", sha);
            if (stream.ReadByte() != -1) throw new InvalidDataException($"{path}: trailing bytes after {size} data bytes");
            return new Content(shape, data, Convert.ToHexStringLower(sha.GetHashAndReset()));
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: corrupted gzip stream ({e.Message})", e);
        }
    }

    /// <summary>Reads in pieces, so a header that promises more than the file holds allocates no more than the file does.</summary>
    private static byte[] ReadExactly(Stream stream, int count, string path, string part, IncrementalHash sha)
    {
        const int Piece = 1 << 20;
        using var buffer = new MemoryStream(Math.Min(count, Piece));
        var piece = new byte[Math.Min(count, Piece)];
        while (buffer.Length < count)
        {
            int want = (int)Math.Min(piece.Length, count - buffer.Length);
            int read = stream.ReadAtLeast(piece.AsSpan(0, want), want, throwOnEndOfStream: false);
            buffer.Write(piece, 0, read);
            if (read < want) throw new InvalidDataException($"{path}: truncated {part}: expected {count} bytes, found {buffer.Length}");
        }
        var bytes = buffer.Length == buffer.Capacity ? buffer.GetBuffer() : buffer.ToArray();
        sha.AppendData(bytes);
        return bytes;
    }
}

using System.Buffers.Binary;

namespace Aavae.IO;

/// <summary>
/// Sets every entry's modification time in a zip archive to 1980-01-01 00:00 (the format's
/// earliest), in place, so that writing the same content twice gives the same bytes. Only the
/// timestamp fields of the central directory and the local headers change; data and checksums
/// are untouched. Zip64 archives (more than 65,535 entries or 4 GB) are handled.
/// </summary>
public static class ZipTimestamps
{
    private const uint EndOfCentralDirectory = 0x06054b50, Zip64End = 0x06064b50, Zip64Locator = 0x07064b50;
    private const uint CentralHeader = 0x02014b50, LocalHeader = 0x04034b50;
    private const ushort Time = 0, Date = (0 << 9) | (1 << 5) | 1; // 1980-01-01 00:00:00

    public static void Normalize(Stream zip)
    {
        long end = zip.Length;
        int tail = (int)Math.Min(end, 22 + 65535);
        var buffer = Read(zip, end - tail, tail);
        int eocd = -1;
        for (int i = tail - 22; i >= 0; i--)
            if (BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(i)) == EndOfCentralDirectory) { eocd = i; break; }
        if (eocd < 0) throw new InvalidDataException("not a zip archive: no end-of-central-directory record");

        long entries = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(eocd + 10));
        long directory = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(eocd + 16));
        long eocdAt = end - tail + eocd;
        if ((entries == 0xFFFF || directory == 0xFFFFFFFF) && eocdAt >= 20)
        {
            var locator = Read(zip, eocdAt - 20, 20);
            if (BinaryPrimitives.ReadUInt32LittleEndian(locator) == Zip64Locator)
            {
                var record = Read(zip, (long)BinaryPrimitives.ReadUInt64LittleEndian(locator.AsSpan(8)), 56);
                if (BinaryPrimitives.ReadUInt32LittleEndian(record) != Zip64End) throw new InvalidDataException("damaged zip64 end record");
                entries = (long)BinaryPrimitives.ReadUInt64LittleEndian(record.AsSpan(32));
                directory = (long)BinaryPrimitives.ReadUInt64LittleEndian(record.AsSpan(48));
            }
        }

        long at = directory;
        for (long e = 0; e < entries; e++)
        {
            var header = Read(zip, at, 46);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != CentralHeader) throw new InvalidDataException($"damaged zip central directory at {at}");
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(28));
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(30));
            int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(32));
            long local = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(42));
            if (local == 0xFFFFFFFF)
                local = Zip64LocalOffset(Read(zip, at + 46 + nameLength, extraLength), header);
            WriteStamp(zip, at + 12);
            if (BinaryPrimitives.ReadUInt32LittleEndian(Read(zip, local, 4)) != LocalHeader) throw new InvalidDataException($"damaged zip local header at {local}");
            WriteStamp(zip, local + 10);
            at += 46 + nameLength + extraLength + commentLength;
        }
        zip.Seek(0, SeekOrigin.End);
    }

    /// <summary>The local header offset from a zip64 extra field: after the sizes that overflowed.</summary>
    private static long Zip64LocalOffset(byte[] extra, byte[] header)
    {
        for (int i = 0; i + 4 <= extra.Length;)
        {
            int id = BinaryPrimitives.ReadUInt16LittleEndian(extra.AsSpan(i));
            int size = BinaryPrimitives.ReadUInt16LittleEndian(extra.AsSpan(i + 2));
            if (id == 1)
            {
                int skip = (BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(24)) == 0xFFFFFFFF ? 8 : 0)
                           + (BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(20)) == 0xFFFFFFFF ? 8 : 0);
                return (long)BinaryPrimitives.ReadUInt64LittleEndian(extra.AsSpan(i + 4 + skip));
            }
            i += 4 + size;
        }
        throw new InvalidDataException("zip64 entry without its extra field");
    }

    private static void WriteStamp(Stream zip, long offset)
    {
        Span<byte> stamp = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(stamp, Time);
        BinaryPrimitives.WriteUInt16LittleEndian(stamp[2..], Date);
        zip.Seek(offset, SeekOrigin.Begin);
        zip.Write(stamp);
    }

    private static byte[] Read(Stream zip, long offset, int count)
    {
        var bytes = new byte[count];
        zip.Seek(offset, SeekOrigin.Begin);
        zip.ReadExactly(bytes);
        return bytes;
    }
}

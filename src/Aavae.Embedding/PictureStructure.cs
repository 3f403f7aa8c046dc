using System.Buffers.Binary;

namespace Aavae.Embedding;

/// <summary>
/// Walks a picture file's structure before a decoder sees it: every chunk, segment and length must
/// lie inside the file, and the sizes it declares must be decodable. A decoder that follows a lying
/// length reads past its buffer or loops; these checks refuse such a file in one line instead.
/// </summary>
public static class PictureStructure
{
    /// <summary>
    /// A JPEG's segments: on a cut or garbled file a decoder's marker scan can loop forever, so every
    /// segment must lie inside the file, a frame header must come
    /// before the scans, and the image must end with its EOI marker.
    /// </summary>
    public static void CheckJpeg(byte[] b)
    {
        int at = 2;
        bool frame = false, scan = false;
        while (true)
        {
            if (at >= b.Length || b[at] != 0xFF) throw new InvalidDataException($"no JPEG marker at byte {at} (cut or garbled)");
            while (at < b.Length && b[at] == 0xFF) at++;
            if (at >= b.Length) throw new InvalidDataException("cut inside a marker");
            byte marker = b[at++];
            if (marker == 0xD9) break;
            if (marker is 0x01 or (>= 0xD0 and <= 0xD7)) continue;
            if (marker == 0x00 || marker == 0xD8) throw new InvalidDataException($"unexpected JPEG marker 0x{marker:X2} at byte {at - 1}");
            if (at + 2 > b.Length) throw new InvalidDataException("cut inside a segment's length");
            int length = (b[at] << 8) | b[at + 1];
            if (length < 2 || at + length > b.Length) throw new InvalidDataException($"a segment at byte {at - 2} runs past the end of the file");
            if (marker is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC))
            {
                if (length < 8) throw new InvalidDataException("frame header too short");
                long height = (b[at + 3] << 8) | b[at + 4], width = (b[at + 5] << 8) | b[at + 6];
                CheckSize(width, height, PictureFile.MaxScalablePixels);
                frame = true;
            }
            at += length;
            if (marker != 0xDA) continue;
            if (!frame) throw new InvalidDataException("a scan before the frame header");
            scan = true;
            // Entropy-coded data: runs to the next marker that is neither a stuffed 0xFF00 nor a restart.
            while (true)
            {
                if (at + 1 >= b.Length) throw new InvalidDataException("cut inside the image data (no end-of-image marker)");
                if (b[at] == 0xFF && b[at + 1] != 0x00 && b[at + 1] is not (>= 0xD0 and <= 0xD7) && b[at + 1] != 0xFF) break;
                at++;
            }
        }
        if (!scan) throw new InvalidDataException("no image data before the end-of-image marker");
    }

    /// <summary>A PNG's chunks: each length inside the file, IHDR first with a decodable size, IEND last.</summary>
    public static void CheckPng(byte[] b)
    {
        int at = 8;
        bool header = false;
        while (true)
        {
            if (at + 8 > b.Length) throw new InvalidDataException($"cut inside a chunk header at byte {at} (no IEND chunk)");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(at));
            if (length > int.MaxValue || at + 12L + length > b.Length) throw new InvalidDataException($"a chunk at byte {at} says {length} bytes, past the end of the file");
            var type = System.Text.Encoding.ASCII.GetString(b, at + 4, 4);
            if (!header)
            {
                if (type != "IHDR" || length < 13) throw new InvalidDataException("the first chunk is not an image header (IHDR)");
                long width = BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(at + 8)), height = BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(at + 12));
                CheckSize(width, height);
                header = true;
            }
            at += 12 + (int)length;
            if (type == "IEND") return;
        }
    }

    /// <summary>A RIFF container's (WebP's) chunks: the declared size and every chunk's inside the file.</summary>
    public static void CheckRiff(byte[] b)
    {
        if (b.Length < 12) throw new InvalidDataException("cut inside the RIFF header");
        long declared = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(4)) + 8L;
        if (declared > b.Length) throw new InvalidDataException($"its RIFF header says {declared} bytes, the file has {b.Length}");
        long at = 12;
        while (at + 8 <= declared)
        {
            long length = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan((int)at + 4));
            long next = at + 8 + length + (length & 1);
            if (at + 8 + length > declared) throw new InvalidDataException($"a chunk at byte {at} says {length} bytes, past the end of the file");
            at = next;
        }
    }

    /// <summary>A BMP's headers: the declared file size and pixel offset inside the file, a decodable size.</summary>
    public static void CheckBmp(byte[] b)
    {
        if (b.Length < 26) throw new InvalidDataException("cut inside the BMP headers");
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(10)), header = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(14));
        if (offset > b.Length || 14 + header > b.Length) throw new InvalidDataException($"its headers say the pixels start at byte {offset}, the file has {b.Length}");
        if (header >= 40)
            CheckSize(Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(18))), Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(22))));
    }

    /// <summary>
    /// A GIF's blocks: the colour tables, every extension's and image's data sub-blocks inside the file,
    /// each image of a decodable size, and at least one image whole. Bytes after a whole image that are
    /// no block are left to the decoder, as browsers leave them.
    /// </summary>
    public static void CheckGif(byte[] b)
    {
        if (b.Length < 13) throw new InvalidDataException("cut inside the GIF header");
        CheckSize(BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(6)), BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(8)));
        long at = 13 + ColourTable(b[10]);
        bool image = false;
        while (true)
        {
            if (at >= b.Length)
            {
                if (image) return;
                throw new InvalidDataException("cut before its first image");
            }
            byte block = b[at++];
            if (block == 0x3B)
            {
                if (!image) throw new InvalidDataException("no image before the GIF trailer");
                return;
            }
            if (block == 0x21)
            {
                at = SubBlocks(b, at + 1);
            }
            else if (block == 0x2C)
            {
                if (at + 9 > b.Length) throw new InvalidDataException($"cut inside an image descriptor at byte {at - 1}");
                CheckSize(BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan((int)at + 4)), BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan((int)at + 6)));
                // The descriptor, its own colour table, and the LZW code size before the data.
                at = SubBlocks(b, at + 9 + ColourTable(b[at + 8]) + 1);
                image = true;
            }
            else if (image) return;
            else throw new InvalidDataException($"no GIF block at byte {at - 1} (0x{block:X2})");
        }
    }

    /// <summary>The bytes of the colour table a GIF's flags byte announces: 3 x 2^(N+1) when its top bit is set.</summary>
    private static int ColourTable(byte flags) => (flags & 0x80) != 0 ? 3 << ((flags & 7) + 1) : 0;

    /// <summary>Where a GIF's chain of data sub-blocks starting at <paramref name="at"/> ends, each inside the file.</summary>
    private static long SubBlocks(byte[] b, long at)
    {
        while (true)
        {
            if (at >= b.Length) throw new InvalidDataException("cut inside a GIF data block");
            int length = b[at++];
            if (length == 0) return at;
            if (at + length > b.Length) throw new InvalidDataException($"a GIF data block at byte {at - 1} says {length} bytes, past the end of the file");
            at += length;
        }
    }

    private static void CheckSize(long width, long height, long max = PictureFile.MaxPixels)
    {
        if (width == 0 || height == 0 || width > max || height > max || width * height > max)
            throw new InvalidDataException($"its header says {width} x {height} pixels; this project decodes 1 to {max >> 20} megapixels");
    }
}

using System.Collections;
using System.IO.Compression;
using System.IO.Hashing;
using Aavae.IO;
using Razorvine.Pickle;
using TorchSharp;
using TorchSharp.PyBridge;
using Aavae.Embedding;

namespace Aavae.Checkpoints;

/// <summary>
/// Files in <c>torch.save</c>'s zip format, read and written through TorchSharp.PyBridge, so the
/// project's checkpoints open in Python with <c>torch.load</c> and Lightning's open here.
/// </summary>
public static class TorchFile
{
    static TorchFile() => PythonClasses.Register();

    /// <summary>The unpickled top-level object of <paramref name="path"/>, which must be a dictionary.</summary>
    public static Hashtable Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: checkpoint not found");
        if (!LooksLikeZip(path)) throw new InvalidDataException($"{path}: not a PyTorch checkpoint (expected the zip archive torch.save writes)");
        using var stream = File.OpenRead(path);
        try
        {
            VerifyEntries(stream, path);
            stream.Position = 0;
            var pickle = DataPkl(stream) ?? throw new InvalidDataException($"{path}: a zip archive without data.pkl is not a torch.save file");
            PythonClasses.TolerateClassesIn(pickle);
            stream.Position = 0;
            return PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException || (e is InvalidDataException && !e.Message.StartsWith(path, StringComparison.Ordinal)))
        {
            // What System.IO.Compression throws for a cut or corrupted archive or entry.
            throw new InvalidDataException($"{path}: truncated or damaged zip archive ({e.Message})");
        }
        catch (Exception e) when (e is PickleException or InvalidCastException or InvalidOperationException or NotImplementedException or KeyNotFoundException)
        {
            // How a pickle that is not a torch.save dictionary surfaces: Razorvine throws PickleException
            // for bad opcodes; PyBridge casts the result to Hashtable (InvalidCast), looks up storages in
            // the archive (InvalidOperation, KeyNotFound) and refuses legacy (pre-zip) formats and whole
            // pickled modules by throwing .NET's NotImplementedException: a finished refusal, reported here.
            throw new InvalidDataException($"{path}: the archive holds no readable pickled dictionary ({e.Message})");
        }
    }

    /// <summary>
    /// Checks every entry's bytes against the CRC-32 and size its zip headers record (torch.save
    /// writes both), so a damaged file is refused whole, naming the entry, instead of loading
    /// weights that differ from what was saved. System.IO.Compression does not check CRCs of
    /// stored entries, which is all torch.save writes.
    /// </summary>
    private static void VerifyEntries(Stream stream, string path)
    {
        using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        var buffer = new byte[1 << 20];
        var crc = new Crc32();
        foreach (var entry in zip.Entries)
        {
            crc.Reset();
            long length = 0;
            try
            {
                using var data = entry.Open();
                int n;
                while ((n = data.Read(buffer)) > 0)
                {
                    crc.Append(buffer.AsSpan(0, n));
                    length += n;
                }
            }
            catch (InvalidDataException e)
            {
                // A deflated entry whose compressed bytes changed fails to inflate.
                throw new InvalidDataException($"{path}: damaged file: zip entry '{entry.FullName}' cannot be decompressed ({e.Message})");
            }
            uint actual = crc.GetCurrentHashAsUInt32();
            if (length != entry.Length || actual != entry.Crc32)
                throw new InvalidDataException(
                    $"{path}: damaged file: zip entry '{entry.FullName}' does not match its recorded checksum (CRC-32 {actual:x8}, {length} bytes; recorded {entry.Crc32:x8}, {entry.Length} bytes)");
        }
    }

    /// <summary>The bytes of the archive's data.pkl (small: tensors live in entries of their own), or null.</summary>
    private static byte[]? DataPkl(Stream stream)
    {
        using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        var entry = zip.Entries.FirstOrDefault(e => e.Name == "data.pkl");
        if (entry is null) return null;
        using var data = entry.Open();
        using var bytes = new MemoryStream();
        data.CopyTo(bytes);
        return bytes.ToArray();
    }

    /// <summary>
    /// Writes <paramref name="content"/> (dictionaries, lists, numbers, strings, tensors) atomically;
    /// the same content gives the same bytes (the zip's timestamps are fixed).
    /// </summary>
    public static void Write(string path, IDictionary content)
    {
        // Tensors are written in PyTorch's default (contiguous) layout whatever layout they train in
        // (channels-last weights and Adam moments): the file is the same for every memory format.
        using var scope = torch.NewDisposeScope();
        var dense = Contiguous(content);
        AtomicFile.Write(path, stream =>
        {
            PyTorchPickler.PickleStateDict(stream, (IDictionary)dense!, leaveOpen: true);
            ZipTimestamps.Normalize(stream);
        });
    }

    /// <summary>The same nesting of dictionaries and lists with every non-contiguous tensor replaced by a contiguous copy.</summary>
    private static object? Contiguous(object? value) => value switch
    {
        torch.Tensor t => t.is_contiguous() ? t : t.contiguous(),
        Hashtable h => CopyInto(new Hashtable(), h),
        IDictionary<string, object> d => d.ToDictionary(kv => kv.Key, kv => Contiguous(kv.Value)!),
        IDictionary<string, torch.Tensor> d => d.ToDictionary(kv => kv.Key, kv => (torch.Tensor)Contiguous(kv.Value)!),
        IDictionary d => CopyInto(new Hashtable(), d),
        Array a when a.GetType().GetElementType()!.IsPrimitive => a,
        IList l => l.Cast<object?>().Select(Contiguous).ToList(),
        _ => value,
    };

    private static Hashtable CopyInto(Hashtable target, IDictionary source)
    {
        foreach (DictionaryEntry e in source) target[e.Key] = Contiguous(e.Value);
        return target;
    }

    /// <summary>True when the file starts with a zip archive's local-header signature (a torch.save file or one of ours).</summary>
    public static bool LooksLikeZip(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[4];
        return stream.Read(magic) == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
    }
}

using System.Collections;
using System.IO.Compression;
using Aavae.IO;
using Razorvine.Pickle;
using TorchSharp.PyBridge;

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
        using var stream = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[4];
        if (stream.Read(magic) < 4 || magic[0] != 'P' || magic[1] != 'K' || magic[2] != 3 || magic[3] != 4)
            throw new InvalidDataException($"{path}: not a PyTorch checkpoint (expected the zip archive torch.save writes)");
        stream.Position = 0;
        try
        {
            using (var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true))
            {
                var pkl = zip.Entries.FirstOrDefault(e => e.Name == "data.pkl")
                    ?? throw new InvalidDataException($"{path}: a zip archive without data.pkl is not a torch.save file");
                using var data = pkl.Open();
                using var bytes = new MemoryStream();
                data.CopyTo(bytes);
                PythonClasses.TolerateClassesIn(bytes.ToArray());
            }
            stream.Position = 0;
            return PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true);
        }
        catch (InvalidDataException e) when (e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw;
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
        {
            throw new InvalidDataException($"{path}: truncated or damaged zip archive ({e.Message})");
        }
        catch (Exception e) when (e is PickleException or InvalidCastException or InvalidOperationException or NotImplementedException or KeyNotFoundException)
        {
            throw new InvalidDataException($"{path}: the archive holds no readable pickled dictionary ({e.Message})");
        }
    }

    /// <summary>Writes <paramref name="content"/> (dictionaries, lists, numbers, strings, tensors) atomically.</summary>
    public static void Write(string path, IDictionary content) =>
        AtomicFile.Write(path, stream => PyTorchPickler.PickleStateDict(stream, content, leaveOpen: true));

    /// <summary>True when the file starts like a zip archive (a torch.save file or one of ours).</summary>
    public static bool LooksLikeZip(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[4];
        return stream.Read(magic) == 4 && magic[0] == 'P' && magic[1] == 'K';
    }

    internal static ZipArchive OpenZip(string path) => ZipFile.OpenRead(path);
}

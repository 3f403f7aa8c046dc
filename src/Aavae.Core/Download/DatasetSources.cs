using System.Formats.Tar;
using System.IO.Compression;

namespace Aavae.Download;

/// <summary>The official archives of the data sets that are not shipped, with their published MD5s.</summary>
public static class DatasetSources
{
    public static readonly IReadOnlyDictionary<string, RemoteFile> Archives = new Dictionary<string, RemoteFile>
    {
        ["cifar10"] = new(new Uri("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"), "cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530"),
        ["stl10"] = new(new Uri("http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz"), "stl10_binary.tar.gz", "91f7769df0f17e558f3565bffb0c7dfb", UnpackTo: "stl10_binary"),
    };

    public static RemoteFile Get(string dataset) =>
        Archives.TryGetValue(dataset.ToLowerInvariant().Replace("-", ""), out var file) ? file
            : throw new ArgumentException($"cannot download '{dataset}': expected one of {string.Join(", ", Archives.Keys)} (fashion-mnist ships with the project)");

    /// <summary>
    /// Unpacks a .tar.gz into <paramref name="directory"/> through a temporary folder, so an
    /// interrupted unpack leaves no half-written data set behind. CIFAR-10 is read from its
    /// archive directly; STL-10's 2.7 GB unlabelled file is memory-mapped, so it is unpacked.
    /// </summary>
    public static void Unpack(string archive, string directory, string expectedFolder)
    {
        var target = Path.Combine(directory, expectedFolder);
        if (Directory.Exists(target)) return;
        var tmp = Path.Combine(directory, $".unpack-{Environment.ProcessId}");
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        Directory.CreateDirectory(tmp);
        try
        {
            using (var gz = new GZipStream(File.OpenRead(archive), CompressionMode.Decompress))
                TarFile.ExtractToDirectory(gz, tmp, overwriteFiles: false);
            var unpacked = Path.Combine(tmp, expectedFolder);
            if (!Directory.Exists(unpacked)) throw new InvalidDataException($"{archive}: holds no {expectedFolder}/ folder");
            Directory.Move(unpacked, target);
        }
        finally
        {
            Directory.Delete(tmp, recursive: true);
        }
    }
}

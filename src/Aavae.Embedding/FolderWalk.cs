namespace Aavae.Embedding;

/// <summary>Walks a folder of pictures: links followed, every folder once, what is never data left out.</summary>
public static class FolderWalk
{
    /// <summary>The file that marks a folder as this project's cache, never data.</summary>
    public const string CacheMarker = ".aavae-cache";

    /// <summary>
    /// Every file under the folder (full paths), minus what is never data: hidden entries (a leading
    /// '.'), run folders (a <c>config.json</c> beside a <c>checkpoints/</c> folder) and folders holding
    /// <see cref="CacheMarker"/>. Real folders are walked before
    /// linked ones, so a picture reached both ways is named by its own path; every folder is walked
    /// once, by its canonical path, which also ends a link back up the tree.
    /// </summary>
    /// <param name="skipped">Told each entry left out that a user may have meant (a broken link, a name no list can hold) and why.</param>
    public static List<string> Files(string root, Action<string, string>? skipped = null)
    {
        var files = new List<string>();
        var linkedFiles = new List<string>();
        var canonical = new HashSet<string>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>();
        var links = new Queue<string>();
        pending.Push(root);
        var options = new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = 0, RecurseSubdirectories = false };
        while (pending.Count > 0 || links.Count > 0)
        {
            var folder = pending.Count > 0 ? pending.Pop() : links.Dequeue();
            var real = RealPath(folder);
            if (!seen.Add(real)) continue;
            if (File.Exists(Path.Combine(folder, CacheMarker))) continue;
            if (File.Exists(Path.Combine(folder, "config.json")) && Directory.Exists(Path.Combine(folder, "checkpoints"))) continue;
            foreach (var entry in Directory.EnumerateFileSystemEntries(folder, "*", options).Order(StringComparer.Ordinal).Reverse())
            {
                var name = Path.GetFileName(entry);
                if (name.StartsWith('.')) continue;
                // A name with a line break or tab cannot stand on a line of the lists and indexes that name pictures.
                if (name.IndexOfAny(['\n', '\r', '\t']) >= 0) { skipped?.Invoke(entry, "its name holds a line break or tab"); continue; }
                if (Directory.Exists(entry))
                {
                    if (new DirectoryInfo(entry).LinkTarget is null) pending.Push(entry);
                    else links.Enqueue(entry);
                }
                else if (File.Exists(entry))
                {
                    if (new FileInfo(entry).LinkTarget is null) { files.Add(entry); canonical.Add(Path.Combine(real, name)); }
                    else linkedFiles.Add(entry);
                }
                else skipped?.Invoke(entry, "a broken link");
            }
        }
        // A link to a file is read once: not when its target is read already, nor twice through two links.
        foreach (var link in linkedFiles)
            if (canonical.Add(RealPath(link))) files.Add(link);
        return files;
    }

    /// <summary>The canonical path of a folder or file (every link on the way resolved), so that one reached twice is read once.</summary>
    private static string RealPath(string folder)
    {
        if (OperatingSystem.IsWindows()) return Path.GetFullPath(folder);
        var resolved = realpath(folder, IntPtr.Zero);
        if (resolved == IntPtr.Zero) return Path.GetFullPath(folder);
        try
        {
            return System.Runtime.InteropServices.Marshal.PtrToStringUTF8(resolved) ?? folder;
        }
        finally
        {
            free(resolved);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", CharSet = System.Runtime.InteropServices.CharSet.Ansi)]
    private static extern IntPtr realpath(string path, IntPtr resolved);

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern void free(IntPtr pointer);
}

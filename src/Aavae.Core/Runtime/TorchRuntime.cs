using System.Runtime.InteropServices;
using TorchSharp;

namespace Aavae.Runtime;

/// <summary>Raised when libtorch cannot be loaded; the message is one line saying what to do.</summary>
public sealed class TorchLoadException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// Loads TorchSharp's native backend once and turns its misleading failure
/// ("doesn't contain a reference to libtorch-cpu-linux-x64") into the real cause. Also tunes
/// glibc's malloc for training (<see cref="NativeMemory.TuneAllocator"/>).
/// </summary>
public static class TorchRuntime
{
    private static readonly Lazy<Exception?> LoadError = new(TryLoad);

    public static void EnsureLoaded()
    {
        if (LoadError.Value is { } e) throw new TorchLoadException(Explain(e), e);
    }

    private static Exception? TryLoad()
    {
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            NativeMemory.TuneAllocator();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static string Explain(Exception e)
    {
        var dir = Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? ".";
        var name = OperatingSystem.IsWindows() ? "LibTorchSharp.dll"
            : OperatingSystem.IsMacOS() ? "libLibTorchSharp.dylib" : "libLibTorchSharp.so";
        var library = Directory.EnumerateFiles(dir, name, SearchOption.AllDirectories).FirstOrDefault();
        if (library is null)
            return $"TorchSharp's native library {name} is not next to {dir}: restore the project with `dotnet build` (package libtorch-cpu or, with -p:TorchBackend=cuda, libtorch-cuda-12.8).";

        // Ask the loader directly: its message names the missing library or symbol version.
        string reason;
        try
        {
            NativeLibrary.Free(NativeLibrary.Load(library));
            reason = e.InnerException?.Message ?? e.Message;
        }
        catch (DllNotFoundException dl)
        {
            reason = dl.Message;
        }
        reason = reason.ReplaceLineEndings(" ");
        if (reason.Contains("GLIBCXX_3.4.32", StringComparison.Ordinal))
            return $"cannot load {library}: the system libstdc++ lacks GLIBCXX_3.4.32 (Debian 12). Rebuild with `dotnet build`, whose Debian12.targets step marks that requirement weak, or install libstdc++ from GCC 13 or newer.";
        return $"cannot load TorchSharp's native library {library}: {reason}";
    }
}

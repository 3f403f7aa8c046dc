using System.Diagnostics;
using Aavae.Checkpoints;
using static TorchSharp.torch;

namespace Aavae.Tests;

/// <summary>
/// Runs <c>reference_fixtures.py</c> with Debian's python3-torch: the reference networks write a
/// Lightning-style checkpoint and their outputs for a fixed batch, once per test class.
/// </summary>
public sealed class ReferenceFixtures : IDisposable
{
    public string Directory { get; } = TempDir.Create();

    public static string Python => Environment.GetEnvironmentVariable("AAVAE_PYTHON")
        ?? (File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3");

    public static string Script => Path.Combine(AppContext.BaseDirectory, "Interop", "reference_fixtures.py");

    private readonly HashSet<string> made = [];

    /// <summary>The checkpoint of <paramref name="encoder"/> (resnet18 or resnet50), made on first use.</summary>
    public string Checkpoint(string encoder)
    {
        lock (made)
            if (made.Add(encoder)) RunPython("make", Directory, encoder);
        return Path.Combine(Directory, encoder + ".ckpt");
    }

    public string Expected(string encoder)
    {
        Checkpoint(encoder);
        return Path.Combine(Directory, encoder + ".expected.pt");
    }

    /// <summary>Runs Python code (<c>python3 -c CODE ARGS...</c>) and returns what it printed; a failure throws with what it wrote to standard error.</summary>
    public static string RunPythonCode(string code, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(Python, ["-c", code, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0 ? stdout.Result : throw new InvalidOperationException($"{Python} -c failed: {stderr}");
    }

    public static string RunPython(params string[] args)
    {
        var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        // The reference computes at the machine's own instruction set: a suite run under an ISA cap
        // tests this project's kernels, and PyTorch 1.13's oneDNN has no bf16 convolution below AVX-512.
        info.Environment.Remove("ONEDNN_MAX_CPU_ISA");
        info.Environment.Remove("DNNL_MAX_CPU_ISA");
        info.ArgumentList.Add(Script);
        foreach (var a in args) info.ArgumentList.Add(a);
        Process p;
        try { p = Process.Start(info)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"cannot run {Python} ({e.Message}): install Debian's python3-torch (apt-get install python3-torch) or set AAVAE_PYTHON");
        }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            p.WaitForExit();
            if (p.ExitCode != 0)
                throw new InvalidOperationException($"{Python} reference_fixtures.py {string.Join(' ', args)} failed (python3-torch installed?): {stderr.Result}{stdout.Result}");
            return stdout.Result;
        }
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

using System.CommandLine;
using Aavae.Diagnostics;
using Aavae.Runtime;

namespace Aavae.Cli.Commands;

/// <summary><c>aavae doctor</c>: is the engine underneath right on this machine? Exit 1 when it is wrong and cannot be worked around.</summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var device = CliOptions.Device();
        // What doctor's child process runs under ONEDNN_VERBOSE (OneDnnProbe).
        var probe = new Option<bool>("--probe-bf16") { Hidden = true };
        var command = new Command("doctor", "Print the engine's versions, CPU, threads and allocator, and check every convolution the presets build (float32 against float64); exit 1 if one is wrong beyond repair");
        command.Options.Add(device);
        command.Options.Add(probe);
        command.SetAction(r =>
        {
            if (r.GetValue(probe))
            {
                OneDnnProbe.RunBf16Convolution();
                return 0;
            }
            var report = EngineReport.Measure(DeviceChoice.Resolve(r.GetValue(device)!));
            Console.WriteLine($"engine         TorchSharp {report.TorchSharpVersion}, libtorch {report.LibTorchVersion}");
            Console.WriteLine($"CPU            {report.Cpu}");
            Console.WriteLine($"oneDNN ISA     {report.OneDnnIsa}");
            Console.WriteLine($"bf16 units     {(CpuInfo.HasBf16Units ? "yes (AVX512-BF16 or AMX-BF16): --precision bf16-mixed runs its convolutions on them" : "none: --precision bf16-mixed runs, but slower than float32 here")}");
            Console.WriteLine($"bf16 kernels   {Bf16Kernels()}");
            Console.WriteLine($"threads        {report.Threads} intra-op, {report.InteropThreads} inter-op");
            Console.WriteLine($"malloc tuning  {(report.MallocTuned ? "on (trim threshold 2 GB, no mmap)" : "off")}{(report.HeapReuse is { } heap ? $": {heap}" : "")}");
            foreach (var (network, check) in report.Checks)
            {
                var verdict = check.AllNative ? "every one right"
                    : check.Unfixable.Any() ? $"WRONG, no fallback right: {string.Join("; ", check.Unfixable.Select(d => d.Shape))}"
                    : $"{check.Rerouted.Count()} wrong, rerouted: {string.Join("; ", check.Rerouted)}";
                Console.WriteLine($"convolutions   {network}: {check.Decisions.Count} shapes checked, {verdict}");
            }
            Console.WriteLine(report.Broken
                ? "verdict        training on this machine would compute wrong gradients; see above"
                : "verdict        training on this machine computes right gradients" + (report.Checks.All(c => c.Check.AllNative) ? "" : " (through the fallbacks above)"));
            return report.Broken ? 1 : 0;
        });
        return command;
    }

    /// <summary>oneDNN's implementation of a bf16 convolution here, from its verbose log in a child process (this program, under ONEDNN_VERBOSE=1).</summary>
    private static string Bf16Kernels()
    {
        var self = Environment.ProcessPath ?? "dotnet";
        bool host = Path.GetFileNameWithoutExtension(self) == "dotnet";
        var info = new System.Diagnostics.ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (host) info.ArgumentList.Add(typeof(DoctorCommand).Assembly.Location);
        foreach (var a in new[] { "doctor", "--probe-bf16" }) info.ArgumentList.Add(a);
        info.Environment[OneDnnProbe.Variable] = "1";
        using var p = System.Diagnostics.Process.Start(info)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var log = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2))) p.Kill();
        var found = OneDnnProbe.Implementations(log);
        return found.Count == 0 ? "unknown (oneDNN printed no bf16 convolution)"
            : string.Join(", ", found.Select(kv => $"{kv.Key} {kv.Value}"));
    }
}

using System.CommandLine;
using Aavae.Diagnostics;
using Aavae.Kernels;
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
        var isa = new Option<string?>("--isa")
        {
            Description = "Check the kernels a CPU with this lower instruction set would run: oneDNN's ONEDNN_MAX_CPU_ISA for the check's process (AVX2, AVX, SSE41, AVX512_CORE, ...)",
        };
        var command = new Command("doctor", "Print the engine's versions, CPU, threads and allocator, and check every convolution the presets build (float32 against float64); exit 1 if one is wrong beyond repair");
        command.Options.Add(device);
        command.Options.Add(probe);
        command.Options.Add(isa);
        var networks = new Option<string[]>("--preset")
        {
            Description = $"Check only these networks: preset names ({string.Join(", ", Aavae.Options.Presets.Names)}) or {EngineReport.TestNetworks} (the test suite's widths 4 and 8); default all",
            AllowMultipleArgumentsPerToken = true,
        };
        command.Options.Add(networks);
        command.SetAction(r =>
        {
            if (r.GetValue(probe))
            {
                OneDnnProbe.RunBf16Convolution();
                return 0;
            }
            var cap = r.GetValue(isa);
            if (cap is not null && !IsaNames.Contains(cap.ToUpperInvariant()))
                throw new Aavae.Configuration.OptionException("Isa", $"{cap}: expected one of {string.Join(", ", IsaNames)}");
            var host = TrialHost.Discover();
            if (cap is not null && host is null)
                throw new InvalidOperationException("--isa needs the aavae program beside this one to run its checks in (set AAVAE_TRIAL_HOST)");
            using var capped = cap is null ? null : new KernelGuard(host: host!.CappedAt(cap.ToUpperInvariant()));
            var chosen = r.GetValue(networks) is { Length: > 0 } names ? names.SelectMany(n => n.Split(',')).ToArray() : null;
            var known = Aavae.Options.Presets.Names.Append(EngineReport.TestNetworks).ToList();
            if (chosen?.FirstOrDefault(n => !known.Contains(n)) is { } unknown)
                throw new Aavae.Configuration.OptionException("Preset", $"{unknown}: expected {string.Join(", ", known)}");
            var report = EngineReport.Measure(DeviceChoice.Resolve(r.GetValue(device)!), capped ?? KernelGuard.Shared, cap?.ToUpperInvariant(), chosen);
            Console.WriteLine($"engine         TorchSharp {report.TorchSharpVersion}, libtorch {report.LibTorchVersion}");
            Console.WriteLine($"CPU            {report.Cpu}");
            Console.WriteLine($"oneDNN ISA     {report.OneDnnIsa}");
            Console.WriteLine($"bf16 units     {(CpuInfo.HasBf16Units ? "yes (AVX512-BF16 or AMX-BF16): --precision bf16-mixed runs its convolutions on them" : "none: --precision bf16-mixed runs, but slower than float32 here")}");
            Console.WriteLine($"precision auto {(CpuInfo.Bf16IsFaster ? "bf16-mixed (AMX, or AMD's AVX512-BF16: bfloat16 convolutions outrun float32 ones)"
                : CpuInfo.HasBf16Units ? $"32-true ({CpuInfo.Bf16SlowerWithoutAmx})" : "32-true")}");
            Console.WriteLine($"bf16 kernels   {Bf16Kernels()}");
            Console.WriteLine($"threads        {report.Threads} intra-op, {report.InteropThreads} inter-op");
            Console.WriteLine($"malloc tuning  {(report.MallocTuned ? "on (trim threshold 2 GB, no mmap)" : "off")}{(report.HeapReuse is { } heap ? $": {heap}" : "")}");
            foreach (var network in report.Checks)
            {
                var check = network.Check;
                var verdict = check.AllNative ? "every one right"
                    : check.Unfixable.Any() ? $"WRONG, no fallback right: {string.Join("; ", check.Unfixable.Select(d => d.Shape))}"
                    : $"{check.Rerouted.Count()} wrong, rerouted: {string.Join("; ", check.Rerouted)}";
                Console.WriteLine($"convolutions   {network.Network}: {check.Decisions.Count} shapes checked, {verdict}");
                if (network.Problems.Count == 0) continue;
                var runs = network.Unfinished.Any() ? $"NOT RUNNABLE, no route finishes: {string.Join("; ", network.Unfinished)}"
                    : network.Rerouted.Any() ? $"{network.Rerouted.Count()} crashed or hung, rerouted: {string.Join("; ", network.Rerouted)}"
                    : "every one finished";
                Console.WriteLine($"               {network.Problems.Count} calls at batch {network.Batch} (training) and {network.EvalBatch} (encoding) run in a trial process: {runs}");
                int compared = network.Problems.Count(p => p.CheckedTheSameKernels is not null), other = network.CheckedByOtherKernels.Count();
                if (compared > 0)
                    Console.WriteLine($"               value checks (batch of 2-4) ran the call's own oneDNN kernels for {compared - other} of {compared} calls");
            }
            Console.WriteLine(report.Broken
                ? "verdict        training on this machine would compute wrong gradients; see above"
                : "verdict        training on this machine computes right gradients" + (report.Checks.All(c => c.Check.AllNative && !c.Rerouted.Any()) ? "" : " (through the fallbacks above)"));
            return report.Broken ? 1 : 0;
        });
        return command;
    }

    /// <summary>The values of ONEDNN_MAX_CPU_ISA that cap an x86 CPU (oneDNN's names).</summary>
    private static readonly string[] IsaNames =
        ["SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI", "AVX512_CORE_BF16", "AVX10_1_512", "AVX512_CORE_FP16", "AVX10_1_512_AMX", "AVX512_CORE_AMX", "AVX10_1_512_AMX_FP16", "AVX512_CORE_AMX_FP16", "ALL"];

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

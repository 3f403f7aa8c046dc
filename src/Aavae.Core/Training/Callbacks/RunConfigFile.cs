using System.Text.Json;
using System.Text.Json.Nodes;
using Aavae.IO;
using Aavae.Kernels;
using Aavae.Embedding;
using Aavae.Runs;
using Aavae.Checkpoints;
using Aavae.Options;
using Aavae.Runtime;

namespace Aavae.Training.Callbacks;

/// <summary>
/// Creates the run's folders and writes <c>config.json</c>: every setting, and what the convolution
/// check found on this machine. The guard tries each convolution call when a layer first meets it,
/// so calls it rerouted during the run are added at the end of the epoch that met them.
/// </summary>
/// <param name="options">The run's settings as they stand: a time budget adds the length it fixed, written at the next epoch's end.</param>
/// <param name="reroutedCalls">The calls rerouted so far (<see cref="KernelGuard.Problems"/>); null: none are tried.</param>
public sealed class RunConfigFile(RunFolder run, Func<PretrainOptions> options, KernelReport kernelCheck, Func<IReadOnlyList<ProblemDecision>>? reroutedCalls = null)
    : ITrainingCallback
{
    private string? written;

    public void OnFitStart(TrainingPosition start)
    {
        run.CreateFolders();
        Write();
    }

    public void OnEpochEnd(EpochEnd epoch) => Write();

    public void OnInterrupted(TrainingPosition position) => Write();

    private void Write()
    {
        var calls = reroutedCalls?.Invoke() ?? [];
        var config = JsonNode.Parse(options().ToJson())!.AsObject();
        var check = JsonSerializer.SerializeToNode(kernelCheck.ToJson())!.AsObject();
        check["calls_rerouted"] = JsonSerializer.SerializeToNode(calls.Select(c => c.ToString()).ToList());
        config["kernel_check"] = check;
        // The machine that trained: figures are read by it, and a report shows it.
        config["machine"] = new JsonObject { ["cpu"] = CpuInfo.Name, ["cores"] = Environment.ProcessorCount };
        var text = config.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        if (text == written) return;
        AtomicFile.Write(run.Config, s => s.Write(System.Text.Encoding.UTF8.GetBytes(text)));
        written = text;
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using Aavae.IO;
using Aavae.Kernels;

namespace Aavae.Training.Callbacks;

/// <summary>Creates the run's folders and writes <c>config.json</c>: every setting, and what the convolution check found on this machine.</summary>
public sealed class RunConfigFile(RunFolder run, PretrainOptions options, KernelReport kernelCheck) : ITrainingCallback
{
    public void OnFitStart(TrainingPosition start)
    {
        run.CreateFolders();
        var config = JsonNode.Parse(options.ToJson())!.AsObject();
        config["kernel_check"] = JsonSerializer.SerializeToNode(kernelCheck.ToJson());
        var json = System.Text.Encoding.UTF8.GetBytes(config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        AtomicFile.Write(run.Config, s => s.Write(json));
    }
}

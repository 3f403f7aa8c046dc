using Aavae.Configuration;
using Aavae.IO;
using TorchSharp.PyBridge;
using Aavae.Embedding;

namespace Aavae.Checkpoints;

/// <summary>The file formats a model's state_dict is exported in.</summary>
public enum ExportFormat
{
    /// <summary>A torch.save zip archive, for torch.load.</summary>
    Pt,
    /// <summary>A .safetensors file.</summary>
    Safetensors,
}

/// <summary>
/// A checkpoint's model as a plain state_dict under the reference's names: the whole model when the
/// checkpoint has a decoder, else the encoder alone (keys <c>encoder.*</c>); the online probe is
/// left out. Equal weights give byte-identical files.
/// </summary>
public static class StateDictExport
{
    public static ExportFormat ParseFormat(string name) => name.ToLowerInvariant() switch
    {
        "pt" => ExportFormat.Pt,
        "safetensors" => ExportFormat.Safetensors,
        _ => throw new OptionException("Format", $"{name}: expected pt, safetensors or onnx"),
    };

    /// <returns>The number of tensors written.</returns>
    public static int Write(PretrainedWeights weights, string path, ExportFormat format)
    {
        var prefix = weights.HasDecoder ? "" : "encoder.";
        // The module must stay alive while its tensors are written: its finalizer frees them.
        using TorchSharp.torch.nn.Module module = weights.HasDecoder ? weights.BuildModel(out _) : weights.BuildEncoder(out _);
        var stateDict = module.state_dict().ToDictionary(kv => prefix + kv.Key, kv => kv.Value);
        if (format == ExportFormat.Pt) TorchFile.Write(path, stateDict.ToDictionary(kv => kv.Key, kv => (object)kv.Value));
        else AtomicFile.Write(path, s => Safetensors.SaveStateDict(s, stateDict, leaveOpen: true));
        return stateDict.Count;
    }
}

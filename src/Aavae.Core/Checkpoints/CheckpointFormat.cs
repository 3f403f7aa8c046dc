using Aavae.Configuration;

namespace Aavae.Checkpoints;

/// <summary>The kinds of checkpoint a user may hold, as this project reads them.</summary>
public enum CheckpointFormat
{
    /// <summary>This project's <c>.ckpt</c>: Lightning's layout plus the run's configuration and state (resumes bit-exactly).</summary>
    Aavae,
    /// <summary>The reference's PyTorch Lightning <c>.ckpt</c>: state_dict and hyper_parameters.</summary>
    Lightning,
    /// <summary>A plain <c>torch.save</c>d state_dict.</summary>
    StateDict,
    /// <summary>A <c>.safetensors</c> file.</summary>
    Safetensors,
}

public static class CheckpointFormats
{
    /// <summary>aavae, lightning, state_dict or safetensors.</summary>
    public static string Name(this CheckpointFormat format) => SettingValues.Name(format);
}

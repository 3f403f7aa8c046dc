using Aavae.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Runtime;

/// <summary>Resolves a device choice (auto, cpu, cuda or cuda:N) to a TorchSharp device.</summary>
public static class DeviceChoice
{
    public static Device Resolve(string choice)
    {
        TorchRuntime.EnsureLoaded();
        var c = choice.Trim().ToLowerInvariant();
        if (c == "auto") return cuda.is_available() ? CUDA : CPU;
        if (c == "cpu") return CPU;
        if (c == "cuda" || c.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
                throw new OptionException("Device",
                    $"{choice}: CUDA is not available. This build uses the CPU libtorch; rebuild with -p:TorchBackend=cuda on a machine with an NVIDIA driver, or use the CPU");
            return new Device(c);
        }
        throw new OptionException("Device", $"{choice}: expected auto, cpu, cuda or cuda:N");
    }
}

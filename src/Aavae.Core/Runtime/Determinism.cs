using TorchSharp;

namespace Aavae.Runtime;

public static class Determinism
{
    /// <summary>Seeds libtorch's global generator (CPU and CUDA), which drives initialisation and sampling.</summary>
    public static void Seed(long seed)
    {
        TorchRuntime.EnsureLoaded();
        torch.manual_seed(seed);
        if (torch.cuda.is_available()) torch.cuda.manual_seed_all(seed);
    }
}

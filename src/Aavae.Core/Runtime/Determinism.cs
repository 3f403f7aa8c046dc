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

    /// <summary>
    /// Runs <paramref name="work"/> (which may seed and draw) and puts the CPU generator back as it
    /// was, so that training's draws do not depend on whether it ran. TorchSharp 0.107 exposes no
    /// CUDA generator state: on a GPU the CUDA generator stays where <paramref name="work"/> left it.
    /// </summary>
    public static T KeepingGenerator<T>(Func<T> work)
    {
        using var state = torch.get_rng_state();
        try { return work(); }
        finally { torch.set_rng_state(state); }
    }
}

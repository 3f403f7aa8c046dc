using Aavae.Optimization;
using Aavae.Runtime;

namespace Aavae.Options;

/// <summary>
/// The reference's own spellings of settings this project names otherwise (src/vae.py's argparse and
/// Lightning's Trainer flags), read as the reference reads them: <c>--cosine_decay 1</c> and
/// <c>--linear_decay 1</c> are <c>--decay</c>, <c>--fp16</c> is <c>--precision 16-mixed</c>,
/// <c>--gpus N</c> is the device and the process count, and under data parallelism vae.py's
/// <c>--batch_size</c> is per process where this project's <c>--batch-size</c> is the global batch.
/// </summary>
/// <param name="Decay">The two int flags, when either was given.</param>
/// <param name="PerProcessBatch">The batch size was typed as vae.py's --batch_size.</param>
public sealed record ReferenceFlags((int Cosine, int Linear)? Decay = null, bool Fp16 = false, int? Gpus = null, bool PerProcessBatch = false)
{
    /// <summary><paramref name="options"/> with these flags laid over it, for a run of <paramref name="processes"/> processes.</summary>
    public PretrainOptions Apply(PretrainOptions options, int processes)
    {
        if (Decay is var (cosine, linear)) options = options with { Optimizer = options.Optimizer with { Decay = DecayKinds.FromReference(cosine, linear) } };
        if (Fp16) options = options with { Trainer = options.Trainer with { Precision = Precision.Fp16Mixed } };
        if (Gpus is int n) options = options with { Trainer = options.Trainer with { Device = DeviceChoice.ForGpus(n, processes) } };
        if (PerProcessBatch && processes > 1) options = options with { Data = options.Data with { BatchSize = options.Data.BatchSize * processes } };
        return options;
    }

    /// <summary>What the reading changed that the user may not expect, one line; null when nothing.</summary>
    public string? Note(PretrainOptions applied, int processes) => PerProcessBatch && processes > 1
        ? $"--batch_size {applied.Data.BatchSize / processes} is per process, as the reference reads it: a global batch of {applied.Data.BatchSize} over {processes} processes"
        : null;
}

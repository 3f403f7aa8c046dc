using Aavae.Configuration;
using Aavae.Runtime;

namespace Aavae.Options;

/// <summary>How long a run trains, on what, and how often it keeps a checkpoint (Lightning's Trainer arguments).</summary>
public sealed record TrainerOptions
{
    [Setting("epochs to train", Min = 1)]
    public int MaxEpochs { get; init; } = 3200;

    /// <summary>The max_epochs of a run whose length its time budget decides (none was typed beside --max-time).</summary>
    public const int AsTimeAllows = int.MaxValue;

    [Setting("stop after N optimizer steps", Min = 1)]
    public long? MaxSteps { get; init; }

    /// <summary>
    /// A budget for the whole job, counted from the process's start, with the linear evaluation that
    /// follows included: the run measures its speed over its first steps and fixes its steps, warm-up
    /// and decay to end within it (<see cref="Plan"/>). Lightning's max_time instead cuts a run off
    /// mid-schedule.
    /// </summary>
    [Setting("a time budget for the whole job, linear evaluation included: the run measures its speed and fits its steps, warm-up and decay to end within it (DD:HH:MM:SS, HH:MM:SS, or a number with s, m, h or d: 15m); with --max-epochs or --max-steps, whichever ends first", Min = 0, MinExclusive = true)]
    public TimeSpan? MaxTime { get; init; }

    /// <summary>The steps and warm-up <see cref="MaxTime"/> fixed; null until the run has measured its speed.</summary>
    public TimePlan? Plan { get; init; }

    [Setting("train on at most N batches an epoch", Min = 1)]
    public int? LimitTrainBatches { get; init; }

    [Setting("validate on at most N batches (0: no validation)", Min = 0)]
    public int? LimitValBatches { get; init; }

    /// <summary>Keep a numbered checkpoint every this many epochs; last.ckpt is written every epoch.</summary>
    [Setting("keep a numbered checkpoint every N epochs (last.ckpt is always kept)", Min = 1)]
    public int CheckpointEvery { get; init; } = 200;

    [Setting("auto (CUDA when available), cpu, cuda or cuda:N")]
    public DeviceChoice Device { get; init; } = DeviceChoice.Auto;

    /// <summary>Layout of activations and convolution weights; channels-last spares oneDNN a conversion around every convolution.</summary>
    [Setting("channels_last or contiguous: the memory layout of activations and convolution weights (results are the same)")]
    public MemoryFormat MemoryFormat { get; init; } = MemoryFormat.ChannelsLast;

    /// <summary>Lightning's precision; bf16-mixed runs the convolutions in bfloat16 (Models/MixedPrecision.cs).</summary>
    [Setting("32, bf16-mixed (convolutions in bfloat16 on float32 weights; faster than float32 with AMX or on AMD's AVX512-BF16) or auto (bf16-mixed on such a CPU, 32 elsewhere, Intel's AVX512-BF16 without AMX included); 16-mixed is the reference's --fp16")]
    public Precision Precision { get; init; } = Precision.Full32;

    /// <summary>Null: libtorch's count (the cores), given up to other processes while they keep cores busy (Runtime/CoreShare.cs).</summary>
    [Setting("libtorch threads, fixed (default: all cores, fewer while other processes keep some busy; a fixed count makes a run bit-reproducible on a busy machine)", Min = 1, Max = 4096)]
    public int? Threads { get; init; }
}

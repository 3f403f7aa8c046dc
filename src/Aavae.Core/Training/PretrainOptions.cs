using Aavae.Optimization;
using Aavae.Runtime;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aavae.Configuration;
using Aavae.Data;
using Aavae.IO;
using Aavae.Models;

namespace Aavae.Training;

/// <summary>
/// Everything that defines a pre-training run (the reference's src/vae.py arguments). The defaults
/// are the paper's CIFAR-10 run as the reference's README gives it (AAVAE: denoising, kl_coeff 0,
/// resnet50 / decoder50, batch 256, Adam 2.5e-4, 10 warm-up epochs, 16 validation samples, 3,200
/// epochs), the <c>paper</c> preset; <see cref="Presets"/> holds the others.
/// </summary>
public sealed record PretrainOptions
{
    public ModelOptions Model { get; init; } = new() { Decoder = Presets.ReferenceDecoder };
    [Setting("fashion-mnist (shipped), cifar10, stl10 or imagenet")]
    [JsonConverter(typeof(DatasetNameJsonConverter))]
    public DatasetInfo Dataset { get; init; } = DatasetInfo.FashionMnist;
    /// <summary>Null: the shipped Fashion-MNIST.</summary>
    [Setting("folder holding the data set (default: the shipped Fashion-MNIST)", Aliases = ["--data_path"])]
    public string? DataDir { get; init; }

    [Setting("smallest share of the picture's area the SimCLR view's RandomResizedCrop keeps (the reference: 0.08)")]
    public double CropScale { get; init; } = 0.08;
    /// <summary>Null: the data set's (vae.py sets 0.5 for CIFAR-10, 1.0 for STL-10 and ImageNet; Fashion-MNIST follows CIFAR-10).</summary>
    [Setting("colour-jitter strength s of the SimCLR view: brightness, contrast, saturation 0.8s, hue 0.2s (default: the data set's, 0.5 for Fashion-MNIST and CIFAR-10, 1.0 for STL-10)")]
    public double? JitterStrength { get; init; }
    /// <summary>Feed the encoder the SimCLR view; the decoder still reconstructs the original. On for AAVAE.</summary>
    [Setting("feed the encoder the SimCLR view")]
    public bool Denoising { get; init; } = true;
    /// <summary>Weight of KL(q(z|x) || p(z)): 0 for AAVAE, whose augmentations regularise instead; 0.1 for the VAE.</summary>
    [Setting("weight of the KL term")]
    public double KlCoeff { get; init; }
    /// <summary>Posterior samples per image in validation (the marginal-likelihood estimate).</summary>
    [Setting("posterior samples per image in validation")]
    public int ValSamples { get; init; } = 16;

    [Setting("adam or lamb")]
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;
    [Setting("base learning rate")]
    public double LearningRate { get; init; } = 2.5e-4;
    [Setting("weight decay (the AE takes the reference AE's 1e-6 under paper and reference)")]
    public double WeightDecay { get; init; }
    [Setting("no weight decay (nor LAMB adaptation) for biases and BatchNorm")]
    public bool ExcludeBnBias { get; init; }
    /// <summary>A fraction warms up over part of an epoch (rounded to whole steps); vae.py's argparse takes whole epochs.</summary>
    [Setting("epochs of linear learning-rate warm-up, a fraction allowed (the AE takes 10 under paper and reference)")]
    public double WarmupEpochs { get; init; } = 10;
    /// <summary>Far past any real run, and small enough that steps and the hyper-parameters' int stay exact.</summary>
    public const double MaxWarmupEpochs = 100_000;
    [Setting("epochs to train")]
    public int MaxEpochs { get; init; } = 3200;
    /// <summary>vae.py's two int flags, --cosine_decay 1 and --linear_decay 1, are one choice here (<see cref="DecayKinds"/>).</summary>
    [Setting("none, cosine or linear: how the learning rate falls to 0 after warm-up (the reference's --cosine_decay 1 and --linear_decay 1)")]
    public DecayKind Decay { get; init; } = DecayKind.None;
    [Setting("images per optimizer step, over all devices")]
    public int BatchSize { get; init; } = 256;
    [Setting("seed for initialisation, data order and augmentation")]
    public int Seed { get; init; }

    /// <summary>Train a linear probe on detached features during pre-training (the reference's online_ft).</summary>
    [Setting("train a linear probe on detached features during pre-training")]
    public bool OnlineFt { get; init; }
    /// <summary>Run the k-NN monitor every this many epochs (and after the last); 0 turns it off.</summary>
    [Setting("run the k-NN monitor every N epochs and after the last (0: off)")]
    public int KnnEvery { get; init; } = 10;
    [Setting("neighbours that vote in the k-NN monitor")]
    public int KnnK { get; init; } = Evaluation.KnnOptions.DefaultK;
    [Setting("the k-NN monitor's votes are weighted by exp(cosine similarity / temperature)")]
    public double KnnTemperature { get; init; } = Evaluation.KnnOptions.DefaultTemperature;
    /// <summary>
    /// Fit the linear-evaluation classifier (cached features, 90 epochs, validation split only) every
    /// this many epochs and after the last; 0 turns it off. The curve of a long run: accuracy against epoch.
    /// </summary>
    [Setting("fit a linear probe on cached frozen features every N epochs and after the last, scored on the validation split (0: off)")]
    public int LinearProbeEvery { get; init; }

    /// <summary>Start from these weights (a published Lightning .ckpt, an export, another run) instead of a random initialisation.</summary>
    [Setting("start a new run from these weights alone (e.g. a published Lightning .ckpt) instead of a random initialisation; the optimizer and schedule start afresh")]
    public string? InitFrom { get; init; }

    [Setting("auto (CUDA when available), cpu, cuda or cuda:N")]
    public DeviceChoice Device { get; init; } = DeviceChoice.Auto;
    /// <summary>Layout of activations and convolution weights; channels-last spares oneDNN a conversion around every convolution (bench/NOTES.md).</summary>
    [Setting("channels_last or contiguous: the memory layout of activations and convolution weights (results are the same)")]
    public MemoryFormat MemoryFormat { get; init; } = MemoryFormat.ChannelsLast;
    /// <summary>Lightning's precision; bf16-mixed runs the convolutions in bfloat16 (Models/MixedPrecision.cs).</summary>
    [Setting("32, bf16-mixed (convolutions in bfloat16 on float32 weights; fast on CPUs with AVX512-BF16 or AMX) or auto (bf16-mixed on such a CPU, 32 elsewhere); 16-mixed is the reference's --fp16")]
    public Precision Precision { get; init; } = Precision.Full32;
    /// <summary>Null: libtorch's count (the cores), given up to other processes while they keep cores busy (Runtime/CoreShare.cs).</summary>
    [Setting("libtorch threads, fixed (default: all cores, fewer while other processes keep some busy; a fixed count makes a run bit-reproducible on a busy machine)")]
    public int? Threads { get; init; }
    /// <summary>Keep a numbered checkpoint every this many epochs; last.ckpt is written every epoch.</summary>
    [Setting("keep a numbered checkpoint every N epochs (last.ckpt is always kept)")]
    public int CheckpointEvery { get; init; } = 200;
    [Setting("train on at most N batches an epoch")]
    public int? LimitTrainBatches { get; init; }
    [Setting("validate on at most N batches (0: no validation)")]
    public int? LimitValBatches { get; init; }
    [Setting("stop after N optimizer steps")]
    public long? MaxSteps { get; init; }

    /// <summary>Throws an <see cref="OptionException"/> naming the first bad value.</summary>
    public void Validate()
    {
        Model.Validate();
        OptionException.Check(KlCoeff >= 0, nameof(KlCoeff), $"must be >= 0, got {KlCoeff}");
        OptionException.Check(CropScale > 0 && CropScale <= 1, nameof(CropScale), $"must lie in (0, 1], got {CropScale}");
        OptionException.Check(JitterStrength is null or >= 0 and <= 2.5, nameof(JitterStrength), $"must lie in [0, 2.5] (hue 0.2s may not pass 0.5), got {JitterStrength}");
        OptionException.Check(ValSamples >= 1, nameof(ValSamples), $"must be >= 1, got {ValSamples}");
        OptionException.Check(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), $"must be a positive number, got {LearningRate}");
        OptionException.Check(WeightDecay >= 0, nameof(WeightDecay), $"must be >= 0, got {WeightDecay}");
        OptionException.Check(WarmupEpochs is >= 0 and <= MaxWarmupEpochs, nameof(WarmupEpochs), $"must lie in [0, {MaxWarmupEpochs}], got {WarmupEpochs}");
        OptionException.Check(MaxEpochs >= 1, nameof(MaxEpochs), $"must be >= 1, got {MaxEpochs}");
        OptionException.Check(BatchSize >= 1, nameof(BatchSize), $"must be >= 1, got {BatchSize}");
        OptionException.Check(KnnEvery >= 0, nameof(KnnEvery), $"must be >= 0, got {KnnEvery}");
        OptionException.Check(LinearProbeEvery >= 0, nameof(LinearProbeEvery), $"must be >= 0, got {LinearProbeEvery}");
        OptionException.Check(KnnK >= 1, nameof(KnnK), $"must be >= 1, got {KnnK}");
        OptionException.Check(KnnTemperature > 0, nameof(KnnTemperature), $"must be > 0, got {KnnTemperature}");
        OptionException.Check(Threads is null or >= 1 and <= 4096, nameof(Threads), $"must lie in [1, 4096], got {Threads}");
        OptionException.Check(CheckpointEvery >= 1, nameof(CheckpointEvery), $"must be >= 1, got {CheckpointEvery}");
        OptionException.Check(LimitTrainBatches is null or >= 1, nameof(LimitTrainBatches), $"must be >= 1, got {LimitTrainBatches}");
        OptionException.Check(LimitValBatches is null or >= 0, nameof(LimitValBatches), $"must be >= 0, got {LimitValBatches}");
        OptionException.Check(MaxSteps is null or >= 1, nameof(MaxSteps), $"must be >= 1, got {MaxSteps}");
    }

    public string ToJson() => JsonSerializer.Serialize(this, SnakeCaseJson.Options);

    /// <summary>A run configuration (config.json, or the one a checkpoint carries), checked as <see cref="Validate"/> checks a new one.</summary>
    /// <param name="source">Named in a refusal: the file it came from.</param>
    public static PretrainOptions FromJson(string json, string source = "run configuration")
    {
        try
        {
            var options = JsonSerializer.Deserialize<PretrainOptions>(json, SnakeCaseJson.Options) ?? throw new InvalidDataException($"{source}: empty run configuration");
            options.Validate();
            return options;
        }
        catch (JsonException e)
        {
            // Its own message quotes the rest of the document.
            throw new InvalidDataException($"{source}: not a readable run configuration (invalid JSON at line {e.LineNumber + 1}, {e.Path ?? "$"})");
        }
        catch (Exception e) when (e is NotSupportedException or ArgumentException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new InvalidDataException($"{source}: not a readable run configuration ({PrintableText.Of(e.Message)})");
        }
        catch (OptionException e)
        {
            throw new InvalidDataException($"{source}: its {JsonNamingPolicy.SnakeCaseLower.ConvertName(e.Option)} {e.Problem}");
        }
    }

    /// <summary>Reads a run's config.json.</summary>
    public static PretrainOptions Read(string path) =>
        File.Exists(path) ? FromJson(File.ReadAllText(path), path) : throw new FileNotFoundException($"{path}: no such run configuration", path);

    /// <summary>
    /// Linear evaluation after this run (<c>pretrain --linear-eval</c>): the run's seed, threads and
    /// batch caps, so that a capped trial run stays capped in evaluation too.
    /// </summary>
    public Evaluation.LinearEvalOptions LinearEvaluation(Evaluation.FeatureMode features) => new()
    {
        Features = features, Seed = Seed, Threads = Threads,
        LimitTrainBatches = LimitTrainBatches, LimitEvalBatches = LimitValBatches is > 0 ? LimitValBatches : null,
    };

    /// <summary>The reference's hyper-parameter names and values, as Lightning stores them in a checkpoint (<see cref="HyperParameters"/>).</summary>
    public Dictionary<string, object?> ToHyperParameters() => HyperParameters.Write(this);
}

using System.Text.Json;
using System.Text.Json.Serialization;
using Aavae.Models;

namespace Aavae.Training;

/// <summary>
/// Everything that defines a pre-training run (the reference's src/vae.py arguments). Defaults are the reference's
/// argparse defaults; <see cref="ModelOptions"/> fixes the networks' shapes.
/// </summary>
public sealed record PretrainOptions
{
    public ModelOptions Model { get; init; } = new();
    public string Dataset { get; init; } = "fashion-mnist";
    /// <summary>Null: the shipped Fashion-MNIST.</summary>
    public string? DataDir { get; init; }

    /// <summary>Feed the encoder the SimCLR view; the decoder still reconstructs the original.</summary>
    public bool Denoising { get; init; }
    public double KlCoeff { get; init; } = 0.1;
    /// <summary>Posterior samples per image in validation (the marginal-likelihood estimate).</summary>
    public int ValSamples { get; init; } = 1;

    public string Optimizer { get; init; } = "adam";
    public double LearningRate { get; init; } = 1e-3;
    public double WeightDecay { get; init; }
    public bool ExcludeBnBias { get; init; }
    public int WarmupEpochs { get; init; } = 20;
    public int MaxEpochs { get; init; } = 3200;
    public DecayKind Decay { get; init; } = DecayKind.None;
    public int BatchSize { get; init; } = 128;
    public int Seed { get; init; }

    /// <summary>Train a linear probe on detached features during pre-training (the reference's --online_ft).</summary>
    public bool OnlineFt { get; init; }
    /// <summary>Run the k-NN monitor every this many epochs (and after the last); 0 turns it off.</summary>
    public int KnnEvery { get; init; } = 10;
    public int KnnK { get; init; } = 200;
    public double KnnTemperature { get; init; } = 0.1;

    /// <summary>Start from these weights (a published Lightning .ckpt, an export, another run) instead of a random initialisation.</summary>
    public string? InitFrom { get; init; }

    public string Device { get; init; } = "auto";
    /// <summary>Keep a numbered checkpoint every this many epochs; last.ckpt is written every epoch.</summary>
    public int CheckpointEvery { get; init; } = 200;
    public int? LimitTrainBatches { get; init; }
    public int? LimitValBatches { get; init; }
    public long? MaxSteps { get; init; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first bad value, as its command-line flag.</summary>
    public void Validate()
    {
        Model.Validate();
        Check(KlCoeff >= 0, $"--kl-coeff must be >= 0, got {KlCoeff}");
        Check(ValSamples >= 1, $"--val-samples must be >= 1, got {ValSamples}");
        Check(Optimizer is "adam" or "lamb", $"--optimizer {Optimizer}: expected adam or lamb");
        Check(LearningRate > 0 && double.IsFinite(LearningRate), $"--learning-rate must be a positive number, got {LearningRate}");
        Check(WeightDecay >= 0, $"--weight-decay must be >= 0, got {WeightDecay}");
        Check(WarmupEpochs >= 0, $"--warmup-epochs must be >= 0, got {WarmupEpochs}");
        Check(MaxEpochs >= 1, $"--max-epochs must be >= 1, got {MaxEpochs}");
        Check(BatchSize >= 1, $"--batch-size must be >= 1, got {BatchSize}");
        Check(KnnEvery >= 0, $"--knn-every must be >= 0, got {KnnEvery}");
        Check(KnnK >= 1, $"--knn-k must be >= 1, got {KnnK}");
        Check(KnnTemperature > 0, $"--knn-temperature must be > 0, got {KnnTemperature}");
        Check(CheckpointEvery >= 1, $"--checkpoint-every must be >= 1, got {CheckpointEvery}");
        Check(LimitTrainBatches is null or >= 1, $"--limit-train-batches must be >= 1, got {LimitTrainBatches}");
        Check(LimitValBatches is null or >= 0, $"--limit-val-batches must be >= 0, got {LimitValBatches}");
        Check(MaxSteps is null or >= 1, $"--max-steps must be >= 1, got {MaxSteps}");
    }

    private static void Check(bool ok, string message)
    {
        if (!ok) throw new ArgumentException(message);
    }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static PretrainOptions FromJson(string json) =>
        JsonSerializer.Deserialize<PretrainOptions>(json, Json) ?? throw new InvalidDataException("empty run configuration");

    /// <summary>The reference's hyper-parameter names and values, as Lightning stores them in a checkpoint.</summary>
    public Dictionary<string, object?> ToHyperParameters() => new()
    {
        ["dataset"] = Dataset,
        ["encoder_name"] = Model.Encoder,
        ["decoder_name"] = Model.DecoderName,
        ["h_dim"] = Model.FeatureDim,
        ["latent_dim"] = Model.LatentDim,
        ["input_height"] = Model.InputHeight,
        ["first_conv3x3"] = Model.Stem.FirstConv3x3(),
        ["remove_first_maxpool"] = Model.Stem.RemoveFirstMaxPool(),
        ["width"] = Model.Width,
        ["model"] = Model.Kind.ToString().ToLowerInvariant(),
        ["denoising"] = Denoising,
        ["kl_coeff"] = KlCoeff,
        ["log_scale"] = Model.LogScale,
        ["learn_scale"] = Model.LearnScale ? 1 : 0,
        ["val_samples"] = ValSamples,
        ["optimizer"] = Optimizer,
        ["learning_rate"] = LearningRate,
        ["weight_decay"] = WeightDecay,
        ["exclude_bn_bias"] = ExcludeBnBias,
        ["warmup_epochs"] = WarmupEpochs,
        ["max_epochs"] = MaxEpochs,
        ["cosine_decay"] = Decay == DecayKind.Cosine ? 1 : 0,
        ["linear_decay"] = Decay == DecayKind.Linear ? 1 : 0,
        ["batch_size"] = BatchSize,
        ["seed"] = Seed,
        ["online_ft"] = OnlineFt,
    };
}

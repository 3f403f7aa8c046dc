using Aavae.Configuration;
using System.Text.Json.Serialization;

namespace Aavae.Models;

/// <summary>Which objective the networks are built for: the two VAE set-ups share a model.</summary>
public enum ModelKind
{
    /// <summary>AAVAE: denoising on, kl_coeff 0 (the paper's method).</summary>
    Aavae,
    /// <summary>Plain VAE baseline: no augmentation, kl_coeff &gt; 0.</summary>
    Vae,
    /// <summary>Deterministic autoencoder baseline with MSE loss.</summary>
    Ae,
}

/// <summary>Everything that fixes the shapes of an AAVAE model. Defaults are the paper's CIFAR-10 run.</summary>
public sealed record ModelOptions
{
    [Setting("aavae, vae or ae: the three set-ups of the paper", Flag = "--model")]
    public ModelKind Kind { get; init; } = ModelKind.Aavae;
    [Setting("encoder: resnet18, resnet34, resnet50, resnet50w2, resnet50w4", Aliases = ["--encoder_name"])]
    public string Encoder { get; init; } = "resnet50";
    /// <summary>Null picks the decoder matching the encoder (resnet50 -> decoder50).</summary>
    [Setting("decoder: decoder18, decoder34 or decoder50 (default: the encoder's own)", Aliases = ["--decoder_name"])]
    public string? Decoder { get; init; }
    [Setting("cifar (3x3 conv), stl10 (7x7) or imagenet (7x7 + max-pool)")]
    public Stem Stem { get; init; } = Stem.Cifar;
    [Setting("image side length in pixels", Flag = "--input-size", Aliases = ["--input_height"], Min = 1)]
    public int InputHeight { get; init; } = 32;
    [Setting("size of the latent z", Min = 1)]
    public int LatentDim { get; init; } = 128;
    /// <summary>Base channel width; 64 in the reference. Narrower runs the same architecture on small machines.</summary>
    [Setting("base channel width (64 in the reference; smaller for CPUs)", Min = 2)]
    public int Width { get; init; } = 64;
    /// <summary>
    /// Null: the encoder's width. The features are the encoder's; the decoder only has to be good
    /// enough to make reconstruction a useful task, and its cost per step falls with the square of its width.
    /// </summary>
    [Setting("the decoder's base channel width (default: the encoder's --width); a narrower decoder costs less a step", Min = 2)]
    public int? DecoderWidth { get; init; }
    /// <summary>Initial value of the decoder's log-variance <c>log_scale</c>.</summary>
    [Setting("initial log-variance of p(x|z)", Aliases = ["--logscale"])]
    public double LogScale { get; init; }
    [Setting("1 to train log_scale, 0 to keep it fixed")]
    public bool LearnScale { get; init; }

    [JsonIgnore]
    public string DecoderName => Decoder ?? Architecture.MatchingDecoder(Encoder);

    [JsonIgnore]
    public EncoderSpec EncoderSpec => Architecture.Encoder(Encoder);

    [JsonIgnore]
    public DecoderSpec DecoderSpec => Architecture.Decoder(DecoderName);

    [JsonIgnore]
    public int DecoderBaseWidth => DecoderWidth ?? Width;

    /// <summary>"32", or "32 (decoder 16)" when the decoder is narrower or wider.</summary>
    [JsonIgnore]
    public string WidthLabel => DecoderWidth is int dw ? $"{Width} (decoder {dw})" : $"{Width}";

    /// <summary>Pooled feature size h of the encoder.</summary>
    [JsonIgnore]
    public int FeatureDim => EncoderSpec.FeatureDim(Width);

    /// <summary>The networks' one width rule: halved before each decoder stage and paired in the blocks, it must be even.</summary>
    public static void CheckWidth(int width, string setting = nameof(Width)) =>
        OptionException.Check(width >= 2 && width % 2 == 0, setting, $"must be an even number >= 2, got {width}");

    /// <summary>Throws an <see cref="OptionException"/> naming the first bad value: the declared ranges, then the rules between settings.</summary>
    public void Validate()
    {
        Settings.Check(this);
        _ = EncoderSpec;
        _ = DecoderSpec;
        CheckWidth(Width);
        if (DecoderWidth is int decoderWidth)
            CheckWidth(decoderWidth, nameof(DecoderWidth));
        Stem.CheckInputSize(InputHeight);
    }
}

using System.CommandLine;
using Aavae.Models;
using Aavae.Training;

namespace Aavae.Cli;

/// <summary>The options that shape a model, shared by every command that builds one.</summary>
internal sealed class ModelOptionSet
{
    public Option<string> Model { get; } = CliOptions.ForSetting(nameof(ModelOptions.Kind), "aavae");
    public Option<string> Encoder { get; } = CliOptions.ForSetting(nameof(ModelOptions.Encoder), "resnet50");
    public Option<string?> Decoder { get; } = CliOptions.ForSetting<string?>(nameof(ModelOptions.Decoder), null);
    public Option<string> Stem { get; } = CliOptions.ForSetting(nameof(ModelOptions.Stem), "cifar", "cifar (3x3 conv), stl10 (7x7) or imagenet (7x7 + max-pool); default: the data set's");
    public Option<int> InputSize { get; } = CliOptions.ForSetting(nameof(ModelOptions.InputHeight), 32, "image side length in pixels; default: the data set's");
    public Option<int> LatentDim { get; } = CliOptions.ForSetting(nameof(ModelOptions.LatentDim), 128);
    public Option<int> Width { get; } = CliOptions.ForSetting(nameof(ModelOptions.Width), 64);

    /// <summary>For pretrain, where the preset decides: no defaults of their own; the help lists each preset's values.</summary>
    public ModelOptionSet FromPresets()
    {
        foreach (var (option, value) in new (Option Option, Func<PretrainOptions, object?> Value)[]
                 {
                     (Model, o => o.Model.Kind), (Encoder, o => o.Model.Encoder), (Decoder, o => o.Model.DecoderName),
                     (LatentDim, o => o.Model.LatentDim), (Width, o => o.Model.Width),
                 })
        {
            option.Description += $" [{CliOptions.PresetValues(value)}]";
        }
        Model.DefaultValueFactory = null;
        Encoder.DefaultValueFactory = null;
        LatentDim.DefaultValueFactory = null;
        Width.DefaultValueFactory = null;
        Stem.DefaultValueFactory = null;
        Stem.Description = "cifar (3x3 conv), stl10 (7x7) or imagenet (7x7 + max-pool) [default: the data set's]";
        InputSize.DefaultValueFactory = null;
        InputSize.Description = "image side length in pixels [default: the data set's]";
        return this;
    }

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Model, Encoder, Decoder, Stem, InputSize, LatentDim, Width })
            command.Options.Add(o);
    }

    public static ModelKind ParseKind(string name) => name.ToLowerInvariant() switch
    {
        "aavae" => ModelKind.Aavae,
        "vae" => ModelKind.Vae,
        "ae" => ModelKind.Ae,
        var other => throw new ArgumentException($"--model {other}: expected aavae, vae or ae"),
    };

    /// <summary>Every option's value, defaults included.</summary>
    public ModelOptions Read(ParseResult r) => Apply(r, new ModelOptions(), explicitOnly: false);

    /// <summary><paramref name="baseline"/> with the options the user typed laid over it.</summary>
    public ModelOptions Apply(ParseResult r, ModelOptions baseline, bool explicitOnly = true)
    {
        T Pick<T>(Option<T> o, T current) => !explicitOnly || r.IsExplicit(o) ? r.GetValue(o)! : current;
        var options = baseline with
        {
            Kind = explicitOnly && !r.IsExplicit(Model) ? baseline.Kind : ParseKind(r.GetValue(Model)!),
            Encoder = Pick(Encoder, baseline.Encoder),
            // A preset that pins the decoder keeps it when the encoder changes (the reference's pairing); null follows the encoder.
            Decoder = r.IsExplicit(Decoder) || !explicitOnly ? r.GetValue(Decoder) : baseline.Decoder,
            Stem = explicitOnly && !r.IsExplicit(Stem) ? baseline.Stem : StemExtensions.Parse(r.GetValue(Stem)!),
            InputHeight = Pick(InputSize, baseline.InputHeight),
            LatentDim = Pick(LatentDim, baseline.LatentDim),
            Width = Pick(Width, baseline.Width),
        };
        options.Validate();
        return options;
    }
}

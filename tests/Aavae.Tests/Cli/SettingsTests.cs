using Aavae.Objectives;
using Aavae.Optimization;
using Aavae.Data;
using Aavae.Augmentation;
using Aavae.Evaluation;
using Aavae.Configuration;
using Aavae.Models;
using Aavae.Training;
using Aavae.Options;

namespace Aavae.Tests.Cli;

/// <summary>The library's option records declare each setting's flag and help; the command line offers every one of them.</summary>
public class SettingsTests
{
    [Fact]
    public void EveryDeclaredSettingIsAFlagOfPretrain()
    {
        var (code, help, err) = CliRunner.Run(TempDir.Create(), "pretrain", "--help");
        Assert.True(code == 0, err);
        var missing = Settings.Of(typeof(PretrainOptions)).Select(s => s.Flag)
            .Where(flag => !help.Contains(flag + " ", StringComparison.Ordinal) && !help.Contains(flag + ",", StringComparison.Ordinal))
            .ToList();
        Assert.Empty(missing);
    }

    [Fact]
    public void HelpPrintsEveryPresetFromItsRecord()
    {
        var (code, help, err) = CliRunner.Run(TempDir.Create(), "pretrain", "--help");
        Assert.True(code == 0, err);
        // The help wraps its lines: compare with every run of white space as one space.
        static string Flat(string s) => System.Text.RegularExpressions.Regex.Replace(s, @"\s+", " ");
        var flat = Flat(help);
        Assert.All(Presets.All, p => Assert.Contains(Flat($"{p.Name}: {p.Describe()}"), flat));
        // cpu-small's shapes, as its record sets them.
        Assert.Contains("resnet18/decoder18 width 32 (decoder 16), batch 128", flat);
    }

    [Theory]
    [InlineData(nameof(ObjectiveOptions.KlCoeff), "--kl-coeff")]
    [InlineData(nameof(ModelOptions.InputHeight), "--input-size")]
    [InlineData(nameof(ModelOptions.Kind), "--model")]
    [InlineData("Output", "--output")]
    public void ASettingsFlagIsDeclaredOrItsNameInKebabCase(string setting, string flag) =>
        Assert.Equal(flag, Settings.Flag(setting, typeof(PretrainOptions), typeof(ModelOptions)));
}

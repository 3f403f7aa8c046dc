using Aavae.Configuration;
using Aavae.Runtime;
using Aavae.Training;
using Aavae.Options;

namespace Aavae.Tests.Runtime;

public class DeviceChoiceTests
{
    [Theory]
    [InlineData("auto", DeviceKind.Auto, null)]
    [InlineData(" CPU ", DeviceKind.Cpu, null)]
    [InlineData("cuda", DeviceKind.Cuda, null)]
    [InlineData("cuda:1", DeviceKind.Cuda, 1)]
    public void TorchsSpellingsParseAndPrintBack(string text, DeviceKind kind, int? index)
    {
        var choice = DeviceChoice.Parse(text);
        Assert.Equal(new DeviceChoice(kind, index), choice);
        Assert.Equal(text.Trim().ToLowerInvariant(), choice.ToString());
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:x")]
    [InlineData("cuda:-1")]
    public void OtherSpellingsAreRefusedNamingTheSetting(string text) =>
        Assert.Equal("Device", Assert.Throws<OptionException>(() => DeviceChoice.Parse(text)).Option);

    [Fact]
    public void TheRunConfigurationKeepsTheDeviceAsText()
    {
        var o = new PretrainOptions { Trainer = new() { Device = DeviceChoice.Parse("cuda:2") } };
        Assert.Contains("\"device\": \"cuda:2\"", o.ToJson());
        Assert.Equal(o, PretrainOptions.FromJson(o.ToJson()));
    }
}

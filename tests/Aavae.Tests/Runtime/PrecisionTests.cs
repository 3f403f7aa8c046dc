using Aavae.Runtime;
using TorchSharp;

namespace Aavae.Tests.Runtime;

public class PrecisionTests
{
    [Theory]
    [InlineData(DeviceType.CPU, true, Precision.Bf16Mixed)]
    [InlineData(DeviceType.CPU, false, Precision.Full32)]
    // The reference's own precision on a GPU, whatever the CPU beside it.
    [InlineData(DeviceType.CUDA, true, Precision.Full32)]
    [InlineData(DeviceType.CUDA, false, Precision.Full32)]
    public void AutoIsBf16MixedOnlyOnACpuWhereBfloat16IsFaster(DeviceType device, bool bf16Faster, Precision expected) =>
        Assert.Equal(expected, Precision.Auto.On(device, bf16Faster));

    [Theory]
    [InlineData(Precision.Full32)]
    [InlineData(Precision.Bf16Mixed)]
    [InlineData(Precision.Fp16Mixed)]
    public void AChosenPrecisionStaysAsChosen(Precision chosen)
    {
        Assert.Equal(chosen, chosen.On(DeviceType.CPU, false));
        Assert.Equal(chosen, chosen.On(DeviceType.CUDA, true));
    }

    [Fact]
    public void AutoHasNoComputeTypeUntilMadeConcrete() =>
        Assert.Throws<InvalidOperationException>(() => Precision.Auto.ComputeType());
}

using Aavae.Optimization;
using Aavae.Models;
using Aavae.Training;

namespace Aavae.Tests.Optimization;

public class ParameterGroupsTests
{
    [Fact]
    public void ExcludeBnBiasPutsBiasesAndBatchNormInAGroupWithoutDecayOrAdaptation()
    {
        using var model = new AavaeModel(new ModelOptions { Encoder = "resnet18", Width = 4, LatentDim = 8 });
        var names = model.named_parameters().ToDictionary(p => p.parameter.Handle, p => p.name);
        var groups = ParameterGroups.Create(model, weightDecay: 1e-4, excludeBnBias: true);

        Assert.Equal((1e-4, false), (groups[0].WeightDecay, groups[0].ExcludeFromLayerAdaptation));
        Assert.Equal((0.0, true), (groups[1].WeightDecay, groups[1].ExcludeFromLayerAdaptation));
        Assert.Contains("encoder.bn1.weight", groups[1].Parameters.Select(p => names[p.Handle]));
        Assert.Contains("decoder.linear_projection1.bias", groups[1].Parameters.Select(p => names[p.Handle]));
        Assert.Contains("encoder.conv1.weight", groups[0].Parameters.Select(p => names[p.Handle]));
        Assert.All(groups[0].Parameters, p => Assert.DoesNotContain("bias", names[p.Handle]));
        // log_scale is fixed (learn_scale 0), so it is in neither group.
        Assert.Equal(model.parameters().Count(p => p.requires_grad), groups.Sum(g => g.Parameters.Count));
        Assert.DoesNotContain("log_scale", groups.SelectMany(g => g.Parameters).Select(p => names[p.Handle]));
    }
}

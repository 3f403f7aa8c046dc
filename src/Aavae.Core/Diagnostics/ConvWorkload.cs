using Aavae.Kernels;
using Aavae.Models;
using static TorchSharp.torch;

namespace Aavae.Diagnostics;

/// <summary>
/// The convolution problems a network meets in a pass, found by running the pass once with every
/// layer computing by unfold+matmul, so that no oneDNN convolution runs while they are counted.
/// Used where the problems must be known before the network runs for real: <c>aavae doctor</c>
/// and the bench's map of failing kernels. (A protected network needs none of this: each layer has
/// its problems tried as it first meets them.)
/// </summary>
public static class ConvWorkload
{
    /// <summary>The distinct problems the network's guarded layers meet in <paramref name="pass"/>, in the order met.</summary>
    public static IReadOnlyList<ConvProblem> Record(nn.Module network, Action pass)
    {
        var layers = network.modules().OfType<GuardedConv2d>().ToList();
        var saved = layers.Select(l => (l.Route, l.Router)).ToList();
        var seen = new List<ConvProblem>();
        foreach (var layer in layers)
            layer.Router = problem =>
            {
                if (!seen.Contains(problem)) seen.Add(problem);
                return ConvRoute.Im2col;
            };
        try
        {
            pass();
        }
        finally
        {
            for (int i = 0; i < layers.Count; i++) (layers[i].Route, layers[i].Router) = saved[i];
        }
        return seen;
    }

    /// <summary>
    /// The problems of one training step of <paramref name="model"/> at <paramref name="batch"/>
    /// images, in the model's layout and types: the original image's no-grad encoding, the view's
    /// encoding and the decoder, both with their backward passes. Recorded on two images (BatchNorm
    /// needs more than one), whose running statistics it moves: for a model built to be examined.
    /// </summary>
    public static IReadOnlyList<ConvProblem> TrainingStep(AavaeModel model, long batch)
    {
        var options = model.Options;
        model.train();
        var found = Record(model, () =>
        {
            using var scope = NewDisposeScope();
            var x = rand(2, 3, options.InputHeight, options.InputHeight);
            model.forward(x, x).Loss.backward();
        });
        model.zero_grad();
        return found.Select(p => p with { Batch = batch }).ToList();
    }

    /// <summary>The forward-only problems of an encoding pass at <paramref name="batch"/> images in eval mode (validation, k-NN, linear evaluation).</summary>
    public static IReadOnlyList<ConvProblem> Encoding(AavaeModel model, long batch)
    {
        var options = model.Options;
        model.eval();
        var found = Record(model, () =>
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            model.Encoder.call(rand(2, 3, options.InputHeight, options.InputHeight));
        });
        model.train();
        return found.Select(p => p with { Batch = batch }).ToList();
    }
}

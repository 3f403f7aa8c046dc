using Aavae.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Aavae.Visualization;

/// <summary>The settings of a t-SNE map; the defaults are scikit-learn's (sklearn.manifold.TSNE, method "exact"). The PCA start makes the map a function of the features alone: there is no seed.</summary>
public sealed record TsneOptions
{
    public double Perplexity { get; init; } = 30;
    public int Iterations { get; init; } = 1000;
    /// <summary>Iterations with P multiplied by <see cref="EarlyExaggeration"/>, at momentum 0.5.</summary>
    public int ExaggerationIterations { get; init; } = 250;
    public double EarlyExaggeration { get; init; } = 12;
}

/// <summary>
/// Exact t-SNE (van der Maaten and Hinton, 2008) on libtorch tensors, as scikit-learn's
/// method "exact" runs it: conditional probabilities whose entropy matches log(perplexity),
/// symmetrised; a Student-t kernel with one degree of freedom in two dimensions; gradient descent
/// with momentum, per-coordinate gains, early exaggeration, the learning rate max(N / exaggeration / 4, 50),
/// and a PCA start scaled to a standard deviation of 1e-4. Memory and time grow with N squared:
/// it is for the few thousand points a report shows.
/// </summary>
public static class Tsne
{
    /// <summary>
    /// The map is computed in float32: each step is a few passes over N x N numbers, bound by memory,
    /// so half the bytes is about half the time, and the map's trustworthiness stays scikit-learn's (the tests).
    /// </summary>
    private const ScalarType Compute = ScalarType.Float32;

    /// <summary>Two coordinates for each row of <paramref name="features"/> [N, D].</summary>
    public static float[,] Map(Tensor features, TsneOptions? options = null)
    {
        options ??= new TsneOptions();
        long n = features.shape[0];
        if (features.dim() != 2 || n < 4)
            throw new ArgumentException($"t-SNE needs [N, D] features with N >= 4, got [{string.Join(", ", features.shape)}]", nameof(features));
        if (options.Perplexity <= 0 || options.Perplexity >= n)
            throw new ArgumentException($"perplexity must be in (0, {n}), got {options.Perplexity}", nameof(options));

        using var scope = NewDisposeScope();
        using var k = new Constants();
        var x = features.detach().to(Compute, CPU);
        var p = JointProbabilities(SquaredDistances(x, k), options.Perplexity, k);
        var y = PcaStart(x, k);
        Descend(p, y, options, k);
        var result = new float[n, 2];
        var values = y.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        for (long i = 0; i < n; i++)
        {
            result[i, 0] = values[2 * i];
            result[i, 1] = values[2 * i + 1];
        }
        return result;
    }

    /// <summary>
    /// Seconds a map of <paramref name="n"/> points would take here, from 3 timed descent steps on
    /// random points (after one untimed): the descent's steps, plus about 50 steps' worth for the
    /// perplexity search, each as costly as a step (both are a few passes over N x N numbers).
    /// </summary>
    public static double EstimateSeconds(int n, TsneOptions? options = null)
    {
        options ??= new TsneOptions();
        if (n < 4) return 0;
        using var scope = NewDisposeScope();
        using var k = new Constants();
        using var generator = new TorchSharp.torch.Generator(0);
        var p = rand(n, n, dtype: Compute, generator: generator);
        p = p.div(p.sum());
        var y = randn(n, 2, dtype: Compute, generator: generator);
        Descend(p, y, options with { Iterations = 1 }, k);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Descend(p, y, options with { Iterations = 3 }, k);
        return clock.Elapsed.TotalSeconds / 3 * (options.Iterations + 50);
    }

    /// <summary>The numbers of the algorithm as native scalars made once, not converted implicitly on each call (Runtime/Scalars).</summary>
    private sealed class Constants : IDisposable
    {
        public readonly Scalar Zero = 0.0.ToScalar(), Half = 0.5.ToScalar(), One = 1.0.ToScalar(), Two = 2.0.ToScalar(), Four = 4.0.ToScalar(),
            Gain = 0.2.ToScalar(), Shrink = 0.8.ToScalar(), MinGain = 0.01.ToScalar(), Tiny = 1e-12.ToScalar(), SumFloor = 1e-8.ToScalar(), Start = 1e-4.ToScalar();

        public void Dispose()
        {
            foreach (var s in new[] { Zero, Half, One, Two, Four, Gain, Shrink, MinGain, Tiny, SumFloor, Start }) s.Dispose();
        }
    }

    private static Tensor ZeroDiagonal(Tensor square)
    {
        square.diagonal().zero_();
        return square;
    }

    private static Tensor SquaredDistances(Tensor x, Constants k)
    {
        var norms = x.mul(x).sum(1, keepdim: true);
        return ZeroDiagonal(norms.Plus(norms.T).sub(x.matmul(x.T).mul(k.Two)).clamp_min(k.Zero));
    }

    /// <summary>P = (P_j|i + P_i|j) / 2N, each row's precision found by bisection to give entropy log(perplexity) (in nats, as scikit-learn).</summary>
    private static Tensor JointProbabilities(Tensor distances, double perplexity, Constants k)
    {
        long n = distances.shape[0];
        using var target = Math.Log(perplexity).ToScalar();
        var beta = ones(n, dtype: Compute);
        using var below = double.NegativeInfinity.ToScalar();
        using var above = double.PositiveInfinity.ToScalar();
        var low = full([n], below, dtype: Compute);
        var high = full([n], above, dtype: Compute);
        var offDiagonal = ZeroDiagonal(ones(n, n, dtype: Compute));
        Tensor Conditional(Tensor precision, out Tensor entropy)
        {
            var weights = distances.mul(precision.neg().unsqueeze(1)).exp().mul(offDiagonal);
            var sum = weights.sum(1).clamp_min(k.SumFloor);
            var conditional = weights.div(sum.unsqueeze(1));
            entropy = sum.log().Plus(precision.mul(distances.mul(conditional).sum(1)));
            return conditional;
        }
        // scikit-learn's _binary_search_perplexity: 100 steps, doubling or halving beta while a bound is open.
        for (int step = 0; step < 100; step++)
        {
            using var inner = NewDisposeScope();
            Conditional(beta, out var entropy);
            var tooFlat = entropy.gt(target);   // too many neighbours: raise beta
            var newLow = where(tooFlat, beta, low);
            var newHigh = where(tooFlat, high, beta);
            var middle = newLow.Plus(newHigh).div(k.Two);
            beta = where(tooFlat,
                where(newHigh.isinf(), beta.mul(k.Two), middle),
                where(newLow.isinf(), beta.div(k.Two), middle)).MoveToOuterDisposeScope();
            low = newLow.MoveToOuterDisposeScope();
            high = newHigh.MoveToOuterDisposeScope();
        }
        var conditional = Conditional(beta, out _);
        var joint = conditional.Plus(conditional.T);
        return joint.div(joint.sum()).clamp_min(k.Tiny);
    }

    /// <summary>The first two principal components, scaled so that the first has standard deviation 1e-4 (scikit-learn's init "pca").</summary>
    private static Tensor PcaStart(Tensor x, Constants k)
    {
        var centred = x.sub(x.mean([0], keepdim: true));
        var (_, _, v) = linalg.svd(centred, fullMatrices: false);
        var y = centred.matmul(v[..2].T);
        // SVD's signs are arbitrary: fix each component's so that its largest loading is positive.
        var signs = v[..2].gather(1, v[..2].abs().argmax(1, keepdim: true)).sign().squeeze(1);
        y = y.mul(signs.unsqueeze(0));
        return y.div(y[.., 0].std(unbiased: false)).mul(k.Start);
    }

    private static void Descend(Tensor p, Tensor y, TsneOptions options, Constants k)
    {
        long n = p.shape[0];
        using var learningRate = Math.Max(n / options.EarlyExaggeration / 4, 50).ToScalar();
        using var exaggeration = options.EarlyExaggeration.ToScalar();
        var update = zeros_like(y);
        var gains = ones_like(y);
        var exaggerated = p.mul(exaggeration);
        for (int it = 0; it < options.Iterations; it++)
        {
            using var step = NewDisposeScope();
            bool early = it < options.ExaggerationIterations;
            var momentum = early ? k.Half : k.Shrink;
            var pNow = early ? exaggerated : p;
            // Student-t affinities (1 + |y_i - y_j|^2)^-1, zero on the diagonal.
            var kernel = ZeroDiagonal(SquaredDistances(y, k).add(k.One, k.One).reciprocal());
            var q = kernel.div(kernel.sum()).clamp_min(k.Tiny);
            var pull = pNow.sub(q).mul(kernel);
            // dC/dy_i = 4 sum_j (p_ij - q_ij)(1 + |y_i - y_j|^2)^-1 (y_i - y_j)
            var gradient = pull.sum(1, keepdim: true).mul(y).sub(pull.matmul(y)).mul(k.Four);
            // Delta-bar-delta gains: grow where the step keeps its direction, shrink where it turns.
            var same = update.mul(gradient).lt(k.Zero);
            gains.copy_(where(same, gains.add(k.Gain, k.One), gains.mul(k.Shrink)).clamp_min(k.MinGain));
            update.copy_(update.mul(momentum).sub(gradient.mul(gains).mul(learningRate)));
            y.add_(update, k.One);
        }
    }
}

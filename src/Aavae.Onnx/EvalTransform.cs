using Aavae.Embedding;
namespace Aavae.Onnx;

/// <summary>
/// The evaluation transform of the libtorch encoder (Aavae.Core's ImageEncoder), in plain C#: RGB
/// bytes to [0, 1], grey where the data set is grey (ITU-R 601 luma, as torchvision's Grayscale),
/// Fashion-MNIST's own 28 x 28 pictures zero-padded to 32, the short side resized with
/// antialiased bilinear filtering (PyTorch's <c>interpolate(..., antialias=True)</c>: a triangle
/// filter stretched over the shrink factor, weights in float as PyTorch computes them, width pass
/// then height pass), a centre crop, and the data set's mean and std.
/// </summary>
public sealed class EvalTransform(OnnxEncoderInfo info)
{
    private const int FashionMnistSide = 28, FashionMnistPadding = 2;

    private int Size => info.InputSize;

    /// <summary>Writes <paramref name="image"/>'s view, [3, Size, Size] channel-major, into <paramref name="output"/>.</summary>
    public void Apply(Pixels image, Span<float> output)
    {
        image.Check();
        if (output.Length != 3 * Size * Size) throw new ArgumentException($"the view needs {3 * Size * Size} floats, got {output.Length}");
        var (x, h, w) = ToPlanes(image);
        if (info.Dataset == "fashion-mnist" && image.Width == FashionMnistSide && image.Height == FashionMnistSide)
            (x, h, w) = (Pad(x, h, w, FashionMnistPadding), h + 2 * FashionMnistPadding, w + 2 * FashionMnistPadding);
        if (Math.Min(h, w) != info.ResizeTo || h != w || h != Size)
            (x, h, w) = ResizeCenterCrop(x, h, w);
        for (int c = 0; c < 3; c++)
        {
            float mean = info.Mean[c], std = info.Std[c];
            var plane = x[c];
            var target = output.Slice(c * Size * Size, Size * Size);
            for (int i = 0; i < target.Length; i++) target[i] = (plane[i] - mean) / std;
        }
    }

    /// <summary>Three [H, W] planes in 0..1; one luma plane repeated for grey pictures and grey data sets.</summary>
    private (float[][] Planes, int Height, int Width) ToPlanes(Pixels image)
    {
        int n = image.Width * image.Height;
        var planes = new[] { new float[n], new float[n], new float[n] };
        var d = image.Data;
        for (int i = 0; i < n; i++)
        {
            if (image.Channels == 1)
            {
                planes[0][i] = d[i] / 255f;
                continue;
            }
            float r = d[3 * i] / 255f, g = d[3 * i + 1] / 255f, b = d[3 * i + 2] / 255f;
            if (info.Grey) planes[0][i] = r * 0.299f + g * 0.587f + b * 0.114f;
            else (planes[0][i], planes[1][i], planes[2][i]) = (r, g, b);
        }
        if (image.Channels == 1 || info.Grey)
        {
            planes[0].CopyTo(planes[1], 0);
            planes[0].CopyTo(planes[2], 0);
        }
        return (planes, image.Height, image.Width);
    }

    private static float[][] Pad(float[][] planes, int h, int w, int p) => planes.Select(plane =>
    {
        int pw = w + 2 * p;
        var padded = new float[(h + 2 * p) * pw];
        for (int y = 0; y < h; y++) plane.AsSpan(y * w, w).CopyTo(padded.AsSpan((y + p) * pw + p, w));
        return padded;
    }).ToArray();

    /// <summary>As Aavae.Core's Geometry.ResizeCenterCrop: short side to <see cref="OnnxEncoderInfo.ResizeTo"/>, the other in proportion, then the centre square.</summary>
    private (float[][] Planes, int Height, int Width) ResizeCenterCrop(float[][] planes, int h, int w)
    {
        double scale = (double)info.ResizeTo / Math.Min(h, w);
        int nh = (int)Math.Round(h * scale), nw = (int)Math.Round(w * scale);
        int top = (int)Math.Round((nh - Size) / 2.0), left = (int)Math.Round((nw - Size) / 2.0);
        var columns = Weights(w, nw);
        var rows = Weights(h, nh);
        var result = new float[3][];
        for (int c = 0; c < 3; c++)
        {
            // Width first, then height, each pass skipped where the size stays (as PyTorch's separable kernel does).
            var wide = nw == w ? planes[c] : ResampleRows(planes[c], h, w, nw, columns);
            var tall = nh == h ? wide : ResampleColumns(wide, h, nw, nh, rows);
            var crop = new float[Size * Size];
            for (int y = 0; y < Size; y++) tall.AsSpan((y + top) * nw + left, Size).CopyTo(crop.AsSpan(y * Size, Size));
            result[c] = crop;
        }
        return (result, Size, Size);
    }

    private static float[] ResampleRows(float[] src, int h, int w, int nw, (int Start, float[] W)[] weights)
    {
        var dst = new float[h * nw];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < nw; x++)
            {
                var (start, wt) = weights[x];
                int row = y * w + start;
                float t = src[row] * wt[0];
                for (int j = 1; j < wt.Length; j++) t += src[row + j] * wt[j];
                dst[y * nw + x] = t;
            }
        return dst;
    }

    private static float[] ResampleColumns(float[] src, int h, int w, int nh, (int Start, float[] W)[] weights)
    {
        var dst = new float[nh * w];
        for (int y = 0; y < nh; y++)
        {
            var (start, wt) = weights[y];
            for (int x = 0; x < w; x++)
            {
                float t = src[start * w + x] * wt[0];
                for (int j = 1; j < wt.Length; j++) t += src[(start + j) * w + x] * wt[j];
                dst[y * w + x] = t;
            }
        }
        return dst;
    }

    /// <summary>PyTorch's antialiased bilinear weights (aten UpSampleKernel.cpp, _compute_index_ranges_weights with the triangle filter), in float.</summary>
    private static (int Start, float[] W)[] Weights(int inputSize, int outputSize)
    {
        float scale = (float)inputSize / outputSize;
        float support = scale >= 1f ? scale : 1f;
        float invscale = scale >= 1f ? 1f / scale : 1f;
        var result = new (int, float[])[outputSize];
        for (int i = 0; i < outputSize; i++)
        {
            float center = scale * (i + 0.5f);
            int xmin = Math.Max((int)(center - support + 0.5f), 0);
            int xsize = Math.Min((int)(center + support + 0.5f), inputSize) - xmin;
            var w = new float[xsize];
            float total = 0f;
            for (int j = 0; j < xsize; j++)
            {
                float v = 1f - Math.Abs((j + xmin - center + 0.5f) * invscale);
                w[j] = v > 0f ? v : 0f;
                total += w[j];
            }
            if (total != 0f) for (int j = 0; j < xsize; j++) w[j] /= total;
            result[i] = (xmin, w);
        }
        return result;
    }
}

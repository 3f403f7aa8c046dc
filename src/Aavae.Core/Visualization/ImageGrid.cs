using Aavae.Data;
using Aavae.IO;
using Aavae.Runtime;
using StbImageWriteSharp;
using TorchSharp;
using static TorchSharp.torch;
using Aavae.Embedding;

namespace Aavae.Visualization;

/// <summary>Lays normalised image batches out as a PNG grid: one row per batch, one column per image.</summary>
public static class ImageGrid
{
    public static void WritePng(string path, IReadOnlyList<Tensor> rows, Normalization normalization, int padding = 2)
    {
        using var scope = NewDisposeScope();
        var mean = tensor(normalization.Mean).view(1, 3, 1, 1);
        var std = tensor(normalization.Std).view(1, 3, 1, 1);
        long cols = rows.Max(r => r.shape[0]);
        long h = rows[0].shape[2], w = rows[0].shape[3];
        var canvas = ones(3, rows.Count * (h + padding) + padding, cols * (w + padding) + padding);
        for (int r = 0; r < rows.Count; r++)
        {
            var images = (rows[r].cpu() * std).Plus(mean).ClampUnit();
            for (int c = 0; c < images.shape[0]; c++)
            {
                long top = padding + r * (h + padding), left = padding + c * (w + padding);
                canvas[.., (int)top..(int)(top + h), (int)left..(int)(left + w)] = images[c];
            }
        }
        var hwc = canvas.mul(Scalars.MaxPixel).round().to_type(ScalarType.Byte).permute(1, 2, 0).contiguous();
        var bytes = hwc.data<byte>().ToArray();
        AtomicFile.Write(path, stream =>
            new ImageWriter().WritePng(bytes, (int)hwc.shape[1], (int)hwc.shape[0], ColorComponents.RedGreenBlue, stream));
    }
}

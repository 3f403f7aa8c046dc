using System.Text.Json;
using Aavae.Augmentation;
using Aavae.Data;
using Aavae.Embedding;
using Aavae.Evaluation;
using Aavae.Runtime;
using Aavae.Visualization;
using static TorchSharp.torch;

namespace Aavae.Reports;

/// <summary>A validation picture placed on the 2-D map of the features; <see cref="Label"/> -1 when the data has no labels.</summary>
public sealed record MapPoint(float X, float Y, int Label, string Thumbnail);

/// <summary>A training picture found near a query, by cosine similarity of the features.</summary>
public sealed record Neighbour(string Thumbnail, int Label, double Similarity);

/// <summary>A validation picture and its nearest training pictures, most similar first.</summary>
public sealed record NeighbourRow(string Thumbnail, int Label, IReadOnlyList<Neighbour> Neighbours);

/// <summary>
/// Whether the features collapsed (lightly's signal): the standard deviation of the L2-normalised
/// features, averaged over dimensions, against 1/sqrt(d), its value for features spread evenly
/// over the sphere. Near 0: every picture maps to about the same direction.
/// </summary>
public sealed record CollapseSignal(double Std, int Dimensions)
{
    public double Spread => 1 / Math.Sqrt(Dimensions);

    /// <summary>The standard deviation as a share of 1/sqrt(d).</summary>
    public double Ratio => Std / Spread;

    /// <summary>The signal of features [N, d]: each row L2-normalised, each dimension's standard deviation over the rows (unbiased, as torch.std), their mean.</summary>
    public static CollapseSignal Of(Tensor features)
    {
        using var scope = NewDisposeScope();
        var unit = nn.functional.normalize(features.to(ScalarType.Float64), dim: 1);
        return new CollapseSignal(unit.std(0).mean().item<double>(), (int)features.shape[1]);
    }
}

/// <summary>How many pictures the end-of-run analysis looks at.</summary>
/// <param name="MapPoints">Validation pictures on the t-SNE map (exact t-SNE: its time grows with the square).</param>
/// <param name="Queries">Validation pictures whose neighbours are shown.</param>
/// <param name="Neighbours">Neighbours shown for each.</param>
/// <param name="SearchPictures">Training pictures searched for them.</param>
/// <param name="Batch">Pictures encoded at once: the run's batch, which its device holds.</param>
public sealed record AnalysisOptions(int MapPoints = 2000, int Queries = 8, int Neighbours = 6, int SearchPictures = 2000, int Thumbnail = 32, int Batch = 256);

/// <summary>
/// What a run's encoder learned, read once at the end of a run for its page: a t-SNE map of
/// validation features with each picture, a few validation pictures with their nearest training
/// pictures, and the collapse signal. Only the training and validation splits are read: the test
/// split stays for the evaluation.
/// </summary>
public sealed record RunAnalysis(int Epoch, IReadOnlyList<string> Classes, IReadOnlyList<MapPoint> Map, IReadOnlyList<NeighbourRow> Neighbours,
    CollapseSignal Collapse, double Seconds, double MapSeconds)
{
    public const string FileName = "analysis.json";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static RunAnalysis Compute(nn.Module<Tensor, Tensor> encoder, DataModule data, Views views, int epoch, AnalysisOptions? options = null)
    {
        options ??= new AnalysisOptions();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        int batch = options.Batch;
        var info = data.Info;
        using var val = FeatureExtractor.Encode(encoder, data.Val, views, batch, limitBatches: Batches(Math.Max(options.MapPoints, options.Queries), batch));
        using var train = FeatureExtractor.Encode(encoder, data.Train, views, batch, limitBatches: Batches(options.SearchPictures, batch));
        var collapse = CollapseSignal.Of(val.Features);

        int points = Math.Min(options.MapPoints, val.Count);
        var mapClock = System.Diagnostics.Stopwatch.StartNew();
        var map = points >= 4 ? Tsne.Map(val.Features[..points], new TsneOptions { Perplexity = Math.Min(30, (points - 1) / 3.0) }) : new float[0, 2];
        double mapSeconds = mapClock.Elapsed.TotalSeconds;
        var valLabels = val.Labels.to(ScalarType.Int64).data<long>().ToArray();
        var trainLabels = train.Labels.to(ScalarType.Int64).data<long>().ToArray();
        var mapThumbs = Thumbnails(data.Val, views, info, Enumerable.Range(0, map.GetLength(0)), options.Thumbnail);
        var mapPoints = Enumerable.Range(0, map.GetLength(0)).Select(i => new MapPoint(map[i, 0], map[i, 1], Label(valLabels[i], info), mapThumbs[i])).ToList();

        int queries = Math.Min(options.Queries, val.Count);
        var rows = new List<NeighbourRow>();
        if (queries > 0 && train.Count > 0)
        {
            var similarity = nn.functional.normalize(val.Features[..queries], dim: 1).matmul(nn.functional.normalize(train.Features, dim: 1).t());
            var (values, indices) = similarity.topk(Math.Min(options.Neighbours, train.Count), dim: 1);
            var sims = values.to(ScalarType.Float64).data<double>().ToArray();
            var idx = indices.data<long>().ToArray();
            int k = (int)indices.shape[1];
            var found = Thumbnails(data.Train, views, info, idx.Select(i => (int)i), options.Thumbnail);
            var queryThumbs = Thumbnails(data.Val, views, info, Enumerable.Range(0, queries), options.Thumbnail);
            for (int q = 0; q < queries; q++)
                rows.Add(new NeighbourRow(queryThumbs[q], Label(valLabels[q], info),
                    Enumerable.Range(0, k).Select(j => new Neighbour(found[q * k + j], Label(trainLabels[idx[q * k + j]], info), sims[q * k + j])).ToList()));
        }
        var classes = info.ClassNames ?? Enumerable.Range(0, info.NumClasses).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        return new RunAnalysis(epoch, classes, mapPoints, rows, collapse, clock.Elapsed.TotalSeconds, mapSeconds);
    }

    private static int Batches(int pictures, int batch) => Math.Max(1, (pictures + batch - 1) / batch);

    private static int Label(long label, DatasetInfo info) => info.NumClasses > 0 && label >= 0 && label < info.NumClasses ? (int)label : -1;

    /// <summary>The pictures as the encoder saw them (the evaluation view, normalisation undone), as PNG data URIs.</summary>
    private static List<string> Thumbnails(IImageSource source, Views views, DatasetInfo info, IEnumerable<int> indices, int side)
    {
        var list = indices.Select(i => (long)i).ToArray();
        var result = new List<string>(list.Length);
        using var mean = tensor(info.Normalization.Mean).view(1, 3, 1, 1);
        using var std = tensor(info.Normalization.Std).view(1, 3, 1, 1);
        for (int start = 0; start < list.Length; start += 256)
        {
            using var scope = NewDisposeScope();
            var (images, _) = source.GetBatch(list.AsSpan(start, Math.Min(256, list.Length - start)));
            var x = views.Eval(images).cpu().to(ScalarType.Float32).mul(std).Plus(mean).ClampUnit();
            if (x.shape[2] > side) x = nn.functional.interpolate(x, [side, side], mode: InterpolationMode.Area);
            var bytes = x.mul(Scalars.MaxPixel).round().to_type(ScalarType.Byte).permute(0, 2, 3, 1).contiguous();
            int h = (int)bytes.shape[1], w = (int)bytes.shape[2];
            var all = bytes.data<byte>().ToArray();
            for (int i = 0; i < bytes.shape[0]; i++)
            {
                var rgb = all.AsSpan(i * h * w * 3, h * w * 3).ToArray();
                var pixels = info.Grey ? new Pixels(w, h, 1, Enumerable.Range(0, h * w).Select(p => rgb[3 * p]).ToArray()) : new Pixels(w, h, 3, rgb);
                result.Add("data:image/png;base64," + Convert.ToBase64String(pixels.EncodePng()));
            }
        }
        return result;
    }

    public void Save(string runFolder) =>
        AtomicFile.Write(Path.Combine(runFolder, FileName), s => JsonSerializer.Serialize(s, this, Json));

    /// <summary>The run's analysis, or null when it has none (a run still training, or one stopped early).</summary>
    public static RunAnalysis? Read(string runFolder)
    {
        var path = Path.Combine(runFolder, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<RunAnalysis>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a run analysis ({e.Message})", e);
        }
    }
}

using System.Globalization;
using Aavae.Configuration;
using Aavae.Models;

namespace Aavae.Data;

/// <summary>A picture folder ready to train on, and the files left out of it with why.</summary>
public sealed record PictureFolderData(DataModule Data, PictureListing Listing, IReadOnlyList<SkippedPicture> Skipped)
{
    /// <summary>Pictures whose pixels the folder's mean and standard deviation are measured on.</summary>
    public const int StatisticsSample = 1000;

    /// <summary>
    /// Lists the folder (<see cref="PictureFolder.List"/>), decodes what its cache lacks, and splits
    /// it: <c>val/</c> (or a seeded share) validates, <c>test/</c> is held out. Pictures that cannot be
    /// decoded are left out and listed; a folder with none that can is refused before anything is built.
    /// </summary>
    /// <param name="say">Told what is found and how the decoding goes, a line at a time.</param>
    /// <param name="decoder">Null: a child process when the <c>aavae</c> program can be found (<see cref="ChildPictureDecoder.Best"/>).</param>
    /// <param name="stop">Ends the first decoding pass between two pictures, keeping what it decoded.</param>
    /// <param name="progress">Told (decoded, to decode) after each picture of the first pass: for a progress bar.</param>
    public static PictureFolderData Load(DataOptions options, int size, Stem stem, int seed, Action<string>? say = null, IPictureDecoder? decoder = null,
        CancellationToken stop = default, Action<int, int>? progress = null)
    {
        var dir = options.DataDir ?? throw new OptionException(nameof(DataOptions.DataDir), "is required with --dataset folder: the folder holding the pictures");
        var listing = PictureFolder.List(dir, options.Files, seed);
        if (listing.Count == 0)
            throw new InvalidDataException($"{dir}: no pictures (JPEG, PNG, GIF, BMP or WebP) found{(listing.Skipped.Count > 0 ? $"; {listing.Skipped.Count} files skipped, the first: {listing.Skipped[0].Path}: {listing.Skipped[0].Reason}" : "")}");
        return Build(dir, listing, options, size, stem, options.Normalization, seed, null, "picture to train on", say, decoder, stop, progress);
    }

    /// <summary>
    /// A folder's pictures with their classes (<see cref="LabelledPictures.Find"/>), for linear
    /// evaluation and k-NN of an encoder trained at <paramref name="size"/> with <paramref name="stem"/>:
    /// decoded through the same cache, normalised with <paramref name="normalization"/> (the
    /// encoder's), else the folder's own.
    /// </summary>
    public static PictureFolderData LoadLabelled(DataOptions options, string? labels, int size, Stem stem, Normalization? normalization, int seed,
        Action<string>? say = null, IPictureDecoder? decoder = null)
    {
        var dir = options.DataDir ?? throw new OptionException(nameof(DataOptions.DataDir), "is required with --dataset folder: the folder holding the pictures");
        var found = LabelledPictures.Find(dir, labels, seed);
        return Build(dir, found.Listing, options, size, stem, normalization, seed, found, "labelled picture to train the classifier on", say, decoder, default, null);
    }

    /// <summary>
    /// The listing decoded through the cache and split into sources (with <paramref name="labels"/>'
    /// classes, when given); normalised with <paramref name="normalization"/>, else the folder's own.
    /// </summary>
    /// <param name="trains">What the training split must hold, as a refusal names it.</param>
    private static PictureFolderData Build(string dir, PictureListing listing, DataOptions options, int size, Stem stem, Normalization? normalization, int seed,
        LabelledPictures? labels, string trains, Action<string>? say, IPictureDecoder? decoder, CancellationToken stop, Action<int, int>? progress)
    {
        var cache = Decode(listing, options, size, say, decoder, stop, progress);
        try
        {
            var skipped = listing.Skipped.Concat(cache.Skipped(listing.Train.Concat(listing.Val).Concat(listing.Test))).ToList();
            var train = cache.Readable(listing.Train);
            var val = cache.Readable(listing.Val);
            var test = cache.Readable(listing.Test);
            if (train.Count == 0)
                throw new InvalidDataException($"{dir}: no readable {trains} ({skipped.Count} skipped{(skipped.Count > 0 ? $", the first: {skipped[0].Path}: {skipped[0].Reason}" : "")})");
            var info = DatasetInfo.ForFolder(size, stem, normalization ?? Measure(cache, train, seed)) with { NumClasses = labels?.Classes.Count ?? 0, ClassNames = labels?.Classes };
            double resize = info.EvalResize ?? 1;
            var name = Path.GetFileName(listing.Root);
            PictureFolderSource Source(string split, IReadOnlyList<string> paths) =>
                new($"{name} ({split})", cache, paths, size, resize, labels?.Labels, labels?.Classes.Count ?? 0);
            var trainSource = Source("train", train);
            // A folder too small to hold some out validates on what it trains on, and says so.
            if (val.Count == 0) say?.Invoke($"{dir}: no picture left to validate on; validation uses the training pictures");
            var valSource = val.Count > 0 ? Source("val", val) : trainSource;
            var testSource = test.Count > 0 ? Source("test", test) : valSource;
            return new PictureFolderData(new DataModule(info, trainSource, valSource, trainSource, valSource, testSource, cache), listing, skipped);
        }
        catch
        {
            cache.Dispose();
            throw;
        }
    }

    /// <summary>The listing's cache, decoding what it lacks, the progress said in lines.</summary>
    private static PictureCache Decode(PictureListing listing, DataOptions options, int size, Action<string>? say, IPictureDecoder? decoder, CancellationToken stop,
        Action<int, int>? progress)
    {
        using var owned = decoder is null ? ChildPictureDecoder.Best() : null;
        var root = options.CacheDir ?? PictureCache.DefaultRoot;
        int step = 0;
        return PictureCache.Open(listing, options.CacheShortSide(size), root, decoder ?? owned!, (done, total) =>
        {
            if (done == 1) say?.Invoke($"decoding {total:N0} pictures of {listing.Root} once, into {PictureCache.FolderFor(root, listing.Root, options.CacheShortSide(size))}");
            progress?.Invoke(done, total);
            if (done * 10 / total > step || done == total)
            {
                step = done * 10 / total;
                say?.Invoke(string.Create(CultureInfo.InvariantCulture, $"decoded {done:N0} of {total:N0} pictures"));
            }
        }, stop);
    }

    /// <summary>One line for the start of a run: what was found, how it splits, what was skipped and where that is listed.</summary>
    public string Summary(string? skippedFile) =>
        $"{Listing.Root}: {Data.PretrainTrain.Count:N0} pictures to train on, {(Data.PretrainVal == Data.PretrainTrain ? 0 : Data.PretrainVal.Count):N0} to validate on"
        + (Data.Test != Data.PretrainVal ? $", {Data.Test.Count:N0} held out (test/)" : "")
        + (Skipped.Count > 0 ? $"; {Skipped.Count:N0} skipped{(skippedFile is null ? $" (the first: {Skipped[0].Path}: {Skipped[0].Reason})" : $", listed in {skippedFile}")}" : "")
        + $"; normalised by its own mean ({string.Join(", ", Data.Info.Normalization.Mean.Select(m => m.ToString("0.000", CultureInfo.InvariantCulture)))})";

    /// <summary>The files skipped, a line each with why, the first <paramref name="shown"/> of them: what a run's start says before its summary.</summary>
    public IEnumerable<string> SkippedLines(int shown = 10) =>
        Skipped.Take(shown).Select(s => $"skipped {s.Path}: {s.Reason}")
            .Concat(Skipped.Count > shown ? [$"skipped {Skipped.Count - shown:N0} more"] : []);

    /// <summary>The skipped files, a line each: path, a tab, the reason.</summary>
    public string SkippedText() => string.Concat(Skipped.Select(s => $"{s.Path}\t{s.Reason.ReplaceLineEndings(" ")}\n"));

    /// <summary>Per-channel mean and standard deviation of [0, 1] pixels over a seeded sample of the training pictures, as stored in the cache.</summary>
    public static Normalization Measure(PictureCache cache, IReadOnlyList<string> pictures, int seed)
    {
        var order = Enumerable.Range(0, pictures.Count).ToArray();
        new Random(seed).Shuffle(order);
        Span<double> sum = stackalloc double[3], squares = stackalloc double[3];
        long pixels = 0;
        foreach (var i in order.Take(StatisticsSample))
        {
            var rgb = cache.Read(pictures[i]);
            for (int j = 0; j < rgb.Length; j += 3)
                for (int c = 0; c < 3; c++)
                {
                    double v = rgb[j + c] / 255.0;
                    sum[c] += v;
                    squares[c] += v * v;
                }
            pixels += rgb.Length / 3;
        }
        var mean = new float[3];
        var std = new float[3];
        for (int c = 0; c < 3; c++)
        {
            double m = sum[c] / pixels;
            mean[c] = (float)m;
            // A folder of one flat colour has no spread: 1 keeps the division finite.
            double s = Math.Sqrt(Math.Max(0, squares[c] / pixels - m * m));
            std[c] = s > 1e-6 ? (float)s : 1f;
        }
        return new Normalization(mean, std);
    }
}

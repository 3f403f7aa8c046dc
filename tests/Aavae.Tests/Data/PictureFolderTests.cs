using Aavae.Data;
using Aavae.Embedding;
using Aavae.Kernels;
using static TorchSharp.torch;

namespace Aavae.Tests.Data;

/// <summary>
/// A folder of a user's own pictures: what is found in it and what is not, how it splits, how
/// broken files are skipped and named, and the decode-once cache. The pictures are the shipped
/// Fashion-MNIST's, written as files, so the decoded pixels have an independent expectation.
/// </summary>
public class PictureFolderTests
{
    /// <summary>The first <paramref name="count"/> shipped training images, [N, 28, 28] grey bytes.</summary>
    internal static byte[][] FashionMnist(int count) => FashionMnist(train: true, count).Pictures;

    /// <summary>The first <paramref name="count"/> (all when null) shipped images of a split as 28 x 28 grey bytes, with their classes.</summary>
    internal static (byte[][] Pictures, long[] Labels) FashionMnist(bool train, int? count = null)
    {
        using var source = Aavae.Data.FashionMnist.Load(Aavae.Data.FashionMnist.ShippedDirectory, train);
        int n = count ?? (int)source.Images.shape[0];
        using var images = source.Images.narrow(0, 0, n);
        // Stored padded to 32x32 as the reference pads them: the 28x28 picture is the centre.
        using var crop = images[.., 0, 2..30, 2..30].contiguous();
        using var labels = source.Labels.narrow(0, 0, n);
        var bytes = crop.data<byte>().ToArray();
        return (Enumerable.Range(0, n).Select(i => bytes.AsSpan(i * 784, 784).ToArray()).ToArray(), labels.data<long>().ToArray());
    }

    internal static string WritePng(string path, byte[] grey, int side = 28)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        new Pixels(side, side, 1, grey).SavePng(path);
        return path;
    }

    /// <summary>Writes each picture with PIL in <paramref name="kind"/> (format and mode), for decoding by the project's decoder.</summary>
    private static void WriteWithPil(string folder, byte[][] pictures, string script)
    {
        var raw = Path.Combine(folder, "pictures.raw");
        File.WriteAllBytes(raw, pictures.SelectMany(p => p).ToArray());
        var code = $$"""
            import numpy as np, os
            from PIL import Image
            pictures = np.fromfile({{Quote(raw)}}, np.uint8).reshape(-1, 28, 28)
            out = {{Quote(folder)}}
            {{script}}
            """;
        ReferenceFixtures.RunPythonCode(code);
        File.Delete(raw);
    }

    /// <summary>A folder of the first <paramref name="count"/> shipped pictures as PNG files named 0.png, 1.png, ...</summary>
    private static (string Folder, byte[][] Pictures) FolderOf(int count)
    {
        var folder = TempDir.Create();
        var pictures = FashionMnist(count);
        for (int i = 0; i < count; i++) WritePng(Path.Combine(folder, $"{i}.png"), pictures[i]);
        return (folder, pictures);
    }

    private static string Quote(string s) => "'" + s.Replace("\\", "\\\\").Replace("'", "\\'") + "'";

    private static byte[] Grey(byte[] rgb)
    {
        var grey = new byte[rgb.Length / 3];
        for (int i = 0; i < grey.Length; i++)
        {
            Assert.True(rgb[3 * i] == rgb[3 * i + 1] && rgb[3 * i + 1] == rgb[3 * i + 2], $"pixel {i} is not grey");
            grey[i] = rgb[3 * i];
        }
        return grey;
    }

    [RequiresTheory(Need.Pil)]
    [InlineData("png-L", "Image.fromarray(a).save(f'{out}/{i}.png')", 0)]
    [InlineData("png-RGBA", "Image.fromarray(a).convert('RGBA').save(f'{out}/{i}.png')", 0)]
    [InlineData("png-palette", "p = Image.fromarray(a, 'P'); p.putpalette([v for g in range(256) for v in (g, g, g)]); p.save(f'{out}/{i}.png')", 0)]
    [InlineData("png-16-bit", "Image.fromarray(a.astype(np.uint16) * 257, 'I;16').save(f'{out}/{i}.png')", 0)]
    [InlineData("bmp", "Image.fromarray(a).convert('RGB').save(f'{out}/{i}.bmp')", 0)]
    [InlineData("gif", "Image.fromarray(a).save(f'{out}/{i}.gif')", 0)]
    [InlineData("webp-lossless", "Image.fromarray(a).convert('RGB').save(f'{out}/{i}.webp', lossless=True)", 0)]
    [InlineData("jpeg", "Image.fromarray(a).save(f'{out}/{i}.jpg', quality=95)", 3)]
    [InlineData("jpeg-progressive", "Image.fromarray(a).convert('RGB').save(f'{out}/{i}.jpg', quality=95, progressive=True)", 3)]
    [InlineData("jpeg-cmyk", "Image.fromarray(a).convert('CMYK').save(f'{out}/{i}.jpg', quality=95)", 3)]
    public void EveryKindOfPictureDecodesToTheDataSetsPixels(string kind, string write, double meanError)
    {
        var top = TempDir.Create();
        var folder = Path.Combine(top, "holiday", "day 2");
        Directory.CreateDirectory(folder);
        var pictures = FashionMnist(8);
        WriteWithPil(folder, pictures, $"for i, a in enumerate(pictures): {write}");
        var files = Directory.GetFiles(folder).OrderBy(f => int.Parse(Path.GetFileNameWithoutExtension(f))).ToList();
        Assert.Equal(8, files.Count);
        for (int i = 0; i < files.Count; i++)
        {
            Assert.NotEqual(PictureFile.Format.None, PictureFile.Sniff(files[i]));
            var (width, height, rgb) = PictureFile.DecodeRgb(files[i]);
            Assert.Equal((28, 28), (width, height));
            // CMYK and lossy JPEG come back near-grey; the lossless kinds exactly.
            var decoded = meanError == 0 ? Grey(rgb) : Enumerable.Range(0, 784).Select(j => (byte)((rgb[3 * j] + rgb[3 * j + 1] + rgb[3 * j + 2]) / 3)).ToArray();
            double error = decoded.Zip(pictures[i], (a, b) => Math.Abs(a - b)).Average();
            Assert.True(error <= meanError, $"{kind} picture {i}: mean error {error:F2} levels");
        }

        // The same files as a folder a run reads: nested, beside a cut copy, decoded by the child process a run uses.
        var first = File.ReadAllBytes(files[0]);
        File.WriteAllBytes(Path.Combine(top, "cut" + Path.GetExtension(files[0])), first[..(first.Length / 3)]);
        var cacheRoot = TempDir.Create();
        var loaded = PictureFolderData.Load(new DataOptions { DataDir = top, CacheDir = cacheRoot }, 32, Aavae.Models.Stem.Cifar, seed: 0);
        using (loaded.Data) Assert.Equal(8, loaded.Data.PretrainTrain.Count + loaded.Data.PretrainVal.Count);
        Assert.Equal(["cut" + Path.GetExtension(files[0])], loaded.Skipped.Select(s => s.Path));
        // Everything is cached now: a decoder that refuses every file proves nothing is decoded again.
        using var cache = PictureCache.Open(loaded.Listing, new DataOptions().CacheShortSide(32), cacheRoot, new RefusingDecoder());
        var readable = cache.Readable(loaded.Listing.Train.Concat(loaded.Listing.Val));
        Assert.Equal(8, readable.Count);
        foreach (var path in readable)
            Assert.Equal(PictureFile.DecodeRgb(Path.Combine(top, path)).Rgb, cache.Read(path));
    }

    private sealed class RefusingDecoder : IPictureDecoder
    {
        public DecodedPicture Decode(string path) => throw new InvalidOperationException($"{path} was decoded again");

        public void Dispose()
        {
        }
    }

    [RequiresFact(Need.Pil)]
    public void AnExifTurnedCopyDecodesToTheUprightPixels()
    {
        // Each of EXIF's eight orientations: PIL stores the picture turned the other way and tags it
        // (lossless WebP, so the pixels are exact), and the decoder must turn it back.
        var folder = TempDir.Create();
        var pictures = FashionMnist(1);
        var upright = pictures[0];
        WriteWithPil(folder, pictures, """
            a = np.zeros((28, 40), np.uint8); a[:, :28] = pictures[0]; a[:, 28:] = 255
            stored = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
                      5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270}
            for o, t in stored.items():
                im = Image.fromarray(a).convert('RGB')
                if t is not None: im = im.transpose(t)
                exif = Image.Exif(); exif[0x0112] = o
                im.save(f'{out}/{o}.webp', lossless=True, exif=exif.tobytes())
                im.save(f'{out}/{o}.jpg', quality=100, exif=exif.tobytes())
            """);
        for (int orientation = 1; orientation <= 8; orientation++)
        {
            var path = Path.Combine(folder, $"{orientation}.webp");
            var (width, height, rgb) = PictureFile.DecodeRgb(path);
            Assert.Equal((40, 28), (width, height));
            Assert.Equal((40, 28), PictureFile.ReadSize(path));
            var grey = Grey(rgb);
            // The upright picture is 40 wide: the Fashion-MNIST picture on the left, white on the right.
            for (int y = 0; y < 28; y++)
            {
                Assert.True(grey.AsSpan(y * 40, 28).SequenceEqual(upright.AsSpan(y * 28, 28)), $"orientation {orientation}, row {y}");
                Assert.All(grey.AsSpan(y * 40 + 28, 12).ToArray(), v => Assert.Equal(255, v));
            }

            // A camera's JPEG carries the tag the same way (APP1); lossy, so the pixels are near, not equal, and a wrong turn is far.
            var jpeg = Path.Combine(folder, $"{orientation}.jpg");
            var (jw, jh, jrgb) = PictureFile.DecodeRgb(jpeg);
            Assert.Equal((40, 28), (jw, jh));
            double error = 0;
            for (int y = 0; y < 28; y++)
                for (int x = 0; x < 28; x++)
                    error += Math.Abs(jrgb[3 * (y * 40 + x)] - upright[y * 28 + x]);
            Assert.True(error / 784 < 4, $"JPEG orientation {orientation}: mean error {error / 784:F1} levels");
        }
    }

    [Fact]
    public void BrokenFilesAreSkippedEachNamedWithItsReason()
    {
        var folder = TempDir.Create();
        var pictures = FashionMnist(30);
        for (int i = 0; i < pictures.Length; i++) WritePng(Path.Combine(folder, i % 2 == 0 ? "a" : Path.Combine("a", "b"), $"{i}.png"), pictures[i]);
        var good = File.ReadAllBytes(Path.Combine(folder, "a", "0.png"));
        File.WriteAllBytes(Path.Combine(folder, "empty.png"), []);
        File.WriteAllText(Path.Combine(folder, "text.jpg"), "not a picture at all");
        File.WriteAllBytes(Path.Combine(folder, "a", "cut.png"), good[..(good.Length / 2)]);
        var lying = good.ToArray();
        // The IHDR chunk's length says 4 GB.
        lying[8] = lying[9] = lying[10] = lying[11] = 0xFF;
        File.WriteAllBytes(Path.Combine(folder, "a", "b", "lying.png"), lying);
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "a file that is no picture and does not claim to be one");

        var told = new List<(int Done, int Total)>();
        var loaded = PictureFolderData.Load(new DataOptions { DataDir = folder, CacheDir = TempDir.Create() }, 32, Aavae.Models.Stem.Cifar, seed: 0,
            progress: (done, total) => told.Add((done, total)));
        using var data = loaded.Data;
        // The bar hears every file the pass tries, in order: the 30 pictures and the 2 broken ones that begin as pictures do (the empty file and the text are left out by the listing).
        Assert.Equal(Enumerable.Range(1, 32).Select(i => (i, 32)), told);
        var skipped = loaded.Skipped.ToDictionary(s => s.Path, s => s.Reason);
        Assert.Equal(["a/b/lying.png", "a/cut.png", "empty.png", "text.jpg"], skipped.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("past the end of the file", skipped["a/b/lying.png"]);
        Assert.Matches("past the end of the file|no IEND", skipped["a/cut.png"]);
        Assert.Contains("not a JPEG, PNG, GIF, BMP or WebP", skipped["text.jpg"]);
        Assert.Equal(30, data.PretrainTrain.Count + data.PretrainVal.Count);
        Assert.Contains("4 skipped, listed in skipped.txt", loaded.Summary("skipped.txt"));
        Assert.Equal(4, loaded.SkippedText().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void AFolderWithNoReadablePictureIsRefusedNamingIt()
    {
        var folder = TempDir.Create();
        File.WriteAllText(Path.Combine(folder, "a.jpg"), "text");
        var e = Assert.Throws<InvalidDataException>(() => PictureFolderData.Load(new DataOptions { DataDir = folder, CacheDir = TempDir.Create() }, 32, Aavae.Models.Stem.Cifar, 0));
        Assert.StartsWith($"{folder}: no pictures", e.Message);
        Assert.Contains("a.jpg", e.Message);
    }

    [Fact]
    public void RunFoldersHiddenFilesLinksAndTheCacheAreReadOnceOrNotAtAll()
    {
        var folder = TempDir.Create();
        var grey = FashionMnist(1)[0];
        WritePng(Path.Combine(folder, "pics", "1.png"), grey);
        WritePng(Path.Combine(folder, "pics", "deeper", "2.png"), grey);
        WritePng(Path.Combine(folder, ".hidden", "3.png"), grey);
        WritePng(Path.Combine(folder, "runs", "aavae-0", "grid.png"), grey);
        File.WriteAllText(Path.Combine(folder, "runs", "aavae-0", "config.json"), "{}");
        Directory.CreateDirectory(Path.Combine(folder, "runs", "aavae-0", "checkpoints"));
        WritePng(Path.Combine(folder, "cache", "4.png"), grey);
        File.WriteAllText(Path.Combine(folder, "cache", PictureFolder.CacheMarker), "");
        // A link back up the tree, and a second way into the same folder: each folder is walked once.
        File.CreateSymbolicLink(Path.Combine(folder, "pics", "deeper", "up"), Path.Combine(folder, "pics"));
        File.CreateSymbolicLink(Path.Combine(folder, "again"), Path.Combine(folder, "pics", "deeper"));
        var listing = PictureFolder.List(folder);
        var all = listing.Train.Concat(listing.Val).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, all.Count);
        Assert.Contains("pics/1.png", all);
        Assert.Single(all, p => p.EndsWith("2.png", StringComparison.Ordinal));
    }

    [Fact]
    public void ValAndTestSubFoldersAreHeldOutAndAListTrainsOnItsPicturesOnly()
    {
        var folder = TempDir.Create();
        var pictures = FashionMnist(12);
        for (int i = 0; i < 8; i++) WritePng(Path.Combine(folder, "train", $"{i}.png"), pictures[i]);
        WritePng(Path.Combine(folder, "val", "8.png"), pictures[8]);
        WritePng(Path.Combine(folder, "val", "9.png"), pictures[9]);
        WritePng(Path.Combine(folder, "test", "10.png"), pictures[10]);
        WritePng(Path.Combine(folder, "test", "sub", "11.png"), pictures[11]);
        var listing = PictureFolder.List(folder);
        Assert.Equal(8, listing.Train.Count);
        Assert.Equal(["val/8.png", "val/9.png"], listing.Val);
        Assert.Equal(["test/10.png", "test/sub/11.png"], listing.Test);

        // Without val/, a seeded 5% (at least one picture) validates: the same for the same seed.
        Directory.Delete(Path.Combine(folder, "val"), recursive: true);
        var first = PictureFolder.List(folder, seed: 3);
        Assert.Single(first.Val);
        Assert.Equal(first.Val, PictureFolder.List(folder, seed: 3).Val);
        Assert.DoesNotContain(first.Val[0], first.Train);

        var list = Path.Combine(TempDir.Create(), "list.txt");
        File.WriteAllLines(list, ["# the ones to use", "train/1.png", "", "train/2.png", "train/missing.png", "../outside.png"]);
        var listed = PictureFolder.List(folder, list);
        Assert.Equal(["train/1.png", "train/2.png"], listed.Train.Concat(listed.Val).Order(StringComparer.Ordinal));
        Assert.Equal(["train/missing.png", "../outside.png"], listed.Skipped.Select(s => s.Path));
    }

    /// <summary>Counts what it is asked to decode, decoding in this process.</summary>
    private sealed class CountingDecoder : IPictureDecoder
    {
        private readonly InProcessPictureDecoder inner = new();
        public List<string> Decoded { get; } = [];

        public DecodedPicture Decode(string path)
        {
            Decoded.Add(Path.GetFileName(path));
            return inner.Decode(path);
        }

        public void Dispose() => inner.Dispose();
    }

    [Fact]
    public void TheCacheDecodesOnceAndAgainOnlyWhatChanged()
    {
        var (folder, pictures) = FolderOf(6);
        var cacheRoot = TempDir.Create();
        using var counting = new CountingDecoder();
        using (var cache = PictureCache.Open(PictureFolder.List(folder), 64, cacheRoot, counting))
        {
            Assert.Equal(6, counting.Decoded.Count);
            // Stored as decoded (28 is under the short side of 64): the picture itself, grey in RGB.
            Assert.Equal(pictures[2], Grey(cache.Read("2.png")));
        }
        using (PictureCache.Open(PictureFolder.List(folder), 64, cacheRoot, counting)) Assert.Equal(6, counting.Decoded.Count);

        // A changed file, a new one and a removed one: only the first two are decoded again.
        WritePng(Path.Combine(folder, "1.png"), pictures[5]);
        File.SetLastWriteTimeUtc(Path.Combine(folder, "1.png"), DateTime.UtcNow.AddMinutes(1));
        WritePng(Path.Combine(folder, "6.png"), pictures[0]);
        File.Delete(Path.Combine(folder, "3.png"));
        using (var cache = PictureCache.Open(PictureFolder.List(folder), 64, cacheRoot, counting))
        {
            Assert.Equal(["1.png", "6.png"], counting.Decoded.Skip(6).Order(StringComparer.Ordinal));
            Assert.Equal(pictures[5], Grey(cache.Read("1.png")));
            Assert.Equal(6, cache.Readable(PictureFolder.List(folder).Train.Concat(PictureFolder.List(folder).Val)).Count);
        }

        // A larger picture is kept at the cache's short side, not at full size.
        WritePng(Path.Combine(folder, "big.png"), Enumerable.Repeat((byte)100, 256 * 256).ToArray(), 256);
        using (var cache = PictureCache.Open(PictureFolder.List(folder), 64, cacheRoot, counting)) Assert.Equal((64, 64), cache.SizeOf("big.png"));
        // --cache-scale 0 keeps it at full size, in a cache of its own; 3 keeps a short side of 3 x 32.
        var full = new DataOptions { CacheScale = 0 }.CacheShortSide(32);
        using (var cache = PictureCache.Open(PictureFolder.List(folder), full, cacheRoot, counting)) Assert.Equal((256, 256), cache.SizeOf("big.png"));
        Assert.EndsWith("-full", Path.GetFileName(PictureCache.FolderFor(cacheRoot, folder, full))[..^17]);
        Assert.Equal(96, new DataOptions { CacheScale = 3 }.CacheShortSide(32));
    }

    [Fact]
    public void TheChildDecoderDecodesAsThisProcessDoesAndACrashCostsOneFile()
    {
        var folder = TempDir.Create();
        var picture = WritePng(Path.Combine(folder, "0.png"), FashionMnist(1)[0]);
        // The aavae program, as the test run names it (TrialHostSetup).
        using (var child = new ChildPictureDecoder(TrialHost.Discover()!))
        {
            var decoded = child.Decode(picture);
            Assert.Equal(PictureFile.DecodeRgb(picture).Rgb, decoded.Rgb);
            Assert.Contains("no such file", child.Decode(Path.Combine(folder, "missing.png")).Problem);
        }

        // A decoder that dies on one file: that file is skipped as a crash, and a new child decodes the next.
        var script = Path.Combine(folder, "decoder.sh");
        File.WriteAllText(script, "while read path; do case \"$path\" in *crash*) kill -SEGV $$;; *) echo \"skip fine\";; esac; done\n");
        using var crashing = new ChildPictureDecoder(new TrialHost("/bin/sh", [script, "kernel-trial"]));
        Assert.Equal("fine", crashing.Decode("a.png").Problem);
        Assert.StartsWith("the decoder crashed on it", crashing.Decode("crash.png").Problem);
        Assert.Equal("fine", crashing.Decode("b.png").Problem);
        // A run of crafted files longer than the restart limit still costs those files: the child answered before, so it
        // is started again each time, and the file after them is decoded by a child, not by this process.
        for (int i = 0; i < 12; i++) Assert.StartsWith("the decoder crashed on it", crashing.Decode($"crash{i}.png").Problem);
        Assert.Equal("fine", crashing.Decode("c.png").Problem);

        // A folder that opens with crafted files: after ten crashes with no answer yet, a good picture
        // shows the program runs, so the decoding stays in a child (in this process, b.png would be "no such file").
        var probing = Path.Combine(folder, "probing.sh");
        File.WriteAllText(probing, "while read path; do case \"$path\" in *crash*) kill -SEGV $$;; *probe*) printf 'ok 1 1\\n\\200\\200\\200';; *) echo \"skip fine\";; esac; done\n");
        using var opened = new ChildPictureDecoder(new TrialHost("/bin/sh", [probing, "kernel-trial"]));
        for (int i = 0; i < 12; i++) Assert.StartsWith("the decoder crashed on it", opened.Decode($"crash{i}.png").Problem);
        Assert.Equal("fine", opened.Decode("b.png").Problem);
    }

    [Fact]
    public void TheFolderIsNormalisedByItsOwnPixels()
    {
        var (folder, pictures) = FolderOf(40);
        var loaded = PictureFolderData.Load(new DataOptions { DataDir = folder, CacheDir = TempDir.Create() }, 32, Aavae.Models.Stem.Cifar, 0, decoder: new InProcessPictureDecoder());
        using var data = loaded.Data;
        // Every training picture is in the sample (fewer than its 1,000): the mean and std of their pixels, by hand.
        var train = loaded.Listing.Train.Select(p => pictures[int.Parse(Path.GetFileNameWithoutExtension(p))]).SelectMany(p => p).Select(v => v / 255.0).ToList();
        double mean = train.Average(), std = Math.Sqrt(train.Average(v => v * v) - mean * mean);
        Assert.All(data.Info.Normalization.Mean, m => Assert.Equal(mean, m, 4));
        Assert.All(data.Info.Normalization.Std, s => Assert.Equal(std, s, 4));
        Assert.True(data.Info.IsFolder);
        Assert.Equal(0, data.Info.NumClasses);
    }

    [Fact]
    public void ATrailingSlashOddNamesAndZeroPaddedClassesAreReadAsMeant()
    {
        var folder = TempDir.Create();
        var pictures = FashionMnist(6);
        // GTSRB's layout: classes named 00000, 00001, ... are names, not the numbers 0 and 1.
        for (int i = 0; i < 6; i++) WritePng(Path.Combine(folder, $"0000{i % 2}", $"{i}.png"), pictures[i]);
        WritePng(Path.Combine(folder, "00000", "line\nbreak.png"), pictures[0]);
        var labelled = LabelledPictures.Find(folder + "/", null, seed: 0);
        Assert.Equal(["00000", "00001"], labelled.Classes);
        Assert.Equal(6, labelled.Labels.Count);
        Assert.Contains(labelled.Listing.Skipped, s => s.Path.Contains("break") && s.Reason.Contains("line break"));
        Assert.Equal(Path.GetFullPath(folder), labelled.Listing.Root);

        var list = Path.Combine(TempDir.Create(), "list.txt");
        File.WriteAllLines(list, ["00000/0.png", "00001/1.png"]);
        var listed = PictureFolder.List(folder + "/", list);
        Assert.Equal(2, listed.Train.Count + listed.Val.Count);
        Assert.Equal(PictureCache.FolderFor("/cache", folder, 64), PictureCache.FolderFor("/cache", folder + "/", 64));
    }

    [Fact]
    public void AStoppedDecodingPassKeepsWhatItDecoded()
    {
        var (folder, pictures) = FolderOf(5);
        var cacheRoot = TempDir.Create();
        using var stop = new CancellationTokenSource();
        using var counting = new CountingDecoder();
        Assert.Throws<OperationCanceledException>(() => PictureCache.Open(PictureFolder.List(folder), 64, cacheRoot, counting, (done, _) => { if (done == 2) stop.Cancel(); }, stop.Token));
        Assert.Equal(2, counting.Decoded.Count);
        // The next pass decodes the other three only.
        using (PictureCache.Open(PictureFolder.List(folder), 64, cacheRoot, counting)) Assert.Equal(5, counting.Decoded.Count);
    }

    [Fact]
    public void AFoldersStemFollowsItsInputSizeUnlessTheStemWasChosen()
    {
        Aavae.Options.PretrainOptions At32(Aavae.Options.PretrainOptions o) => o with { Model = o.Model with { InputHeight = 32, Stem = Aavae.Models.Stem.Stl10 } };
        Assert.Equal(Aavae.Models.Stem.Cifar, Aavae.Training.PretrainSetup.Resolve("cpu-small", dataset: "folder", explicitly: o => o with { Model = o.Model with { InputHeight = 32 } }).Model.Stem);
        Assert.Equal(Aavae.Models.Stem.Stl10, Aavae.Training.PretrainSetup.Resolve("cpu-small", dataset: "folder", explicitly: At32, stemChosen: true).Model.Stem);
        Assert.Equal(Aavae.Models.Stem.Stl10, Aavae.Training.PretrainSetup.Resolve("cpu-small", dataset: "folder").Model.Stem);
    }
}

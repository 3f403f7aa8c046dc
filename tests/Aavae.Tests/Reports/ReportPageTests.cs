using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Aavae.Embedding;
using Aavae.Jobs;
using Aavae.Options;
using Aavae.Progress;
using Aavae.Reports;
using Aavae.Runs;
using Aavae.Tests.Data;
using Aavae.Tests.Training;
using Aavae.Training;
using static TorchSharp.torch;

namespace Aavae.Tests.Reports;

/// <summary>A run's page: its numbers against hand-worked ones, what a real run's page holds, and the page in a real browser.</summary>
public class ReportPageTests
{
    [Fact]
    public void TheCollapseSignalOfFourOppositeDirectionsIsWorkedByHand()
    {
        // Rows (2,0), (0,3), (-1,0), (0,-5): normalised, each dimension holds 1, 0, -1, 0, whose
        // (unbiased, as lightly's torch.std) standard deviation is sqrt(2/3); 1/sqrt(2) for even spread.
        using var features = tensor(new float[,] { { 2, 0 }, { 0, 3 }, { -1, 0 }, { 0, -5 } });
        var c = CollapseSignal.Of(features);
        Assert.Equal(Math.Sqrt(2.0 / 3), c.Std, 5);
        Assert.Equal(Math.Sqrt(0.5), c.Spread, 10);
        Assert.Equal(Math.Sqrt(2.0 / 3) / Math.Sqrt(0.5), c.Ratio, 5);
        // Every picture the same direction: collapsed to 0.
        using var same = tensor(new float[,] { { 1, 1 }, { 2, 2 }, { 3, 3 } });
        Assert.Equal(0, CollapseSignal.Of(same).Std, 6);
    }

    [Fact]
    public void TheSummaryLineSaysTheRunInNumbersWorkedByHand()
    {
        var options = Presets.Get("cpu-small");
        IReadOnlyDictionary<string, double>[] epochs =
        [
            new Dictionary<string, double> { ["epoch"] = 0, ["step"] = 10, ["epoch_seconds"] = 20, ["val_loss"] = 100, ["val_bpd"] = 2.5 },
            new Dictionary<string, double> { ["epoch"] = 1, ["step"] = 20, ["epoch_seconds"] = 30, ["val_loss"] = 90, ["val_bpd"] = 2.25 },
        ];
        var run = new RunRecord("/runs/a", options, "Some CPU, family 6 model 1", epochs, [],
            [new LinearEvalRecord("f", "cached", 0.87654, [0.8, 0.85], 0.79, null, null)], null, null);
        var line = ReportPage.SummaryLine(run);
        // 20 steps of 128 pictures in 20 + 30 seconds: 51.2 images/s.
        Assert.Equal("aavae resnet18/decoder18 width 32 (decoder 16), latent 64; fashion-mnist at 32 px; 2 epochs, 20 steps; 0 min 50 s over the epochs, validation included; 51 images/s; "
            + "Some CPU, family 6 model 1; precision auto; validation loss 90; 2.250 bits/dim; linear evaluation (cached) 87.65% test; k-NN 79.00%", line);
    }

    [Fact]
    public void APageWhileTrainingReloadsItselfAndOneAtTheEndDoesNot()
    {
        var run = new RunRecord("/runs/a", null, null, [], [], [], null, null);
        var at = new DateTimeOffset(2026, 12, 6, 20, 0, 0, TimeSpan.Zero);
        var training = ReportPage.Render([run], ReportState.Training, at);
        Assert.Contains("<meta http-equiv=\"refresh\" content=\"60\">", training);
        Assert.Contains("Written 2026-12-06 20:00:00 +00:00 while the run trains; this page reloads every minute", training);
        foreach (var state in new[] { ReportState.Finished, ReportState.Interrupted, ReportState.Read })
        {
            var page = ReportPage.Render([run], state, at);
            Assert.DoesNotContain("http-equiv", page);
            Assert.Contains("Written 2026-12-06 20:00:00 +00:00", page);
        }
        Assert.Contains("no epoch finished yet", training);
    }

    [Fact]
    public void AnAnalysisFileCarriesNoMarkupAndNothingFromElsewhereIntoThePage()
    {
        // An analysis.json from a run folder someone was sent: its pictures are kept only as PNG data URIs.
        string[] hostile = ["https://example.com/a.png", "data:image/png;base64,AAAA\"><script>alert(1)</script>", "javascript:alert(1)"];
        var analysis = new RunAnalysis(0, ["a<b>"], hostile.Select((t, i) => new MapPoint(i, i, 0, t)).Append(new MapPoint(3, 1, 0, "data:image/png;base64,iVBORw0KGgo=")).ToList(),
            [new NeighbourRow(hostile[1], 0, [new Neighbour(hostile[0], 0, 0.5)])], new CollapseSignal(0.05, 4), 1, 1);
        var page = ReportPage.Render([new RunRecord("/runs/a", null, null, [], [], [], null, analysis)], ReportState.Read, DateTimeOffset.Now);
        Assert.DoesNotContain("<script", page);
        Assert.DoesNotContain("example.com", page);
        Assert.DoesNotContain("javascript:", page);
        Assert.Contains("href=\"data:image/png;base64,iVBORw0KGgo=\"", page);
        Assert.Contains("a&lt;b&gt;", page);
    }

    [Fact]
    [Trait(Category.Name, Category.Slow)]
    public void ARunsPageCarriesItsChartsPicturesAndCommandAndFetchesNothing()
    {
        var dir = Path.Combine(TempDir.Create(), "tiny");
        var options = PretrainerTests.Tiny();
        using (var trainer = new Pretrainer(options, RunFolder.CreateNew(dir, overwrite: false), new SilentObserver())) Assert.False(trainer.Run().Interrupted);

        var html = File.ReadAllText(Path.Combine(dir, ReportPage.FileName));
        Assert.Contains("when the run ended", html);
        Assert.DoesNotContain("http-equiv", html);
        // Nothing from another host, no script: every src and href is inside the page.
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        var outside = Regex.Matches(html, "(?:src|href)=\"(?!data:|#)([^\"]*)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.Empty(outside);
        Assert.DoesNotMatch("url\\((?!data:|#)", html);
        // Two epochs of curves, the reconstructions of the first and last, the map of its 16 validation pictures and their neighbours.
        Assert.True(Regex.Matches(html, "<svg").Count >= 6, "charts and the map");
        Assert.Equal(2, Regex.Matches(html, "alt=\"reconstructions after epoch [12]\"").Count);
        Assert.Equal(16, Regex.Matches(html, "<g class=\"pt\">").Count);
        Assert.Contains("<section class=\"neighbours\">", html);
        Assert.Contains("<section class=\"collapse\">", html);
        Assert.DoesNotContain("<section class=\"confusion\">", html);
        // The command that repeats it, with what differs from the preset it is closest to.
        var command = Regex.Match(html, "<pre class=\"command\"><code>(.*?)</code></pre>").Groups[1].Value;
        Assert.StartsWith("aavae pretrain --preset ", WebUtility.HtmlDecode(command));
        foreach (var flag in new[] { "--width 4", "--latent-dim 8", "--batch-size 16", "--seed 7", "--limit-train-batches 3" })
            Assert.Contains(flag, command);
        Assert.True(html.Length < 3 << 20, $"{html.Length} bytes");

        // A second run beside it: one page, both summaries, both in each chart's legend.
        var other = Path.Combine(TempDir.Create(), "tiny-vae");
        using (var trainer = new Pretrainer(Presets.WithKind(options, Aavae.Models.ModelKind.Vae), RunFolder.CreateNew(other, overwrite: false), new SilentObserver())) trainer.Run();
        var both = ReportJob.Run([dir, other], Path.Combine(TempDir.Create(), "both.html"));
        var page = File.ReadAllText(both);
        Assert.Contains("<b>tiny</b>: aavae", page);
        Assert.Contains("<b>tiny-vae</b>: vae", page);
        Assert.Contains("tiny: train_loss", page);
        Assert.Contains("tiny-vae: train_loss", page);
    }

    [Fact]
    [Trait(Category.Name, Category.Slow)]
    public void APageThatCannotBeWrittenIsSaidAndTheRunGoesOn()
    {
        var dir = Path.Combine(TempDir.Create(), "tiny");
        var run = RunFolder.CreateNew(dir, overwrite: false);
        // A folder where the page's file would go: every write of the page fails.
        Directory.CreateDirectory(Path.Combine(dir, ReportPage.FileName));
        var messages = new List<string>();
        using (var trainer = new Pretrainer(PretrainerTests.Tiny(), run, new Messages(messages)))
            Assert.False(trainer.Run().Interrupted);
        Assert.True(File.Exists(run.LastCheckpoint));
        Assert.True(File.Exists(Path.Combine(dir, RunAnalysis.FileName)));
        // Said once while training, once at the end.
        Assert.Equal(2, messages.Count(m => m.StartsWith("the run's page was not written: ", StringComparison.Ordinal)));
    }

    private sealed class Messages(List<string> said) : ITrainingObserver
    {
        public void OnStep(StepReport step) { }

        public void OnEpoch(EpochReport epoch) { }

        public void OnMessage(string message) => said.Add(message);
    }

    [Fact]
    [Trait(Category.Name, Category.Slow)]
    public void AFolderWithoutLabelsHasAPageWithoutColoursOrConfusion()
    {
        var dir = TempDir.Create();
        var pictures = Path.Combine(dir, "pictures");
        // 100 pictures: 5% of them (5) validate, enough for a map.
        var grey = PictureFolderTests.FashionMnist(100);
        for (int i = 0; i < grey.Length; i++) PictureFolderTests.WritePng(Path.Combine(pictures, i % 2 == 0 ? "a" : "b", $"{i}.png"), grey[i]);
        var (code, _, err) = CliRunner.Run(dir, ["pretrain", "--dataset", "folder", "--data-dir", pictures, "--cache-dir", Path.Combine(dir, "cache"), "--input-size", "32",
            "--width", "4", "--latent-dim", "8", "--batch-size", "8", "--max-epochs", "1", "--device", "cpu", "--output", "run"]);
        Assert.True(code == 0, err);
        var html = File.ReadAllText(Path.Combine(dir, "run", ReportPage.FileName));
        Assert.Contains("<svg class=\"tsne\"", html);
        Assert.DoesNotContain("<ul class=\"legend\">", html);
        Assert.DoesNotContain("<section class=\"confusion\">", html);
        Assert.Contains("fill=\"#555\"", html);
    }

    [RequiresFact(Need.Chromium)]
    [Trait(Category.Name, Category.Slow)]
    public void TheBrowserShowsThePageWithTheResultFilesAccuracy()
    {
        var dir = TempDir.Create();
        var (code, _, err) = CliRunner.Run(dir, ["pretrain", "--encoder", "resnet18", "--width", "4", "--latent-dim", "8", "--batch-size", "16", "--max-epochs", "2",
            "--limit-train-batches", "3", "--limit-val-batches", "2", "--device", "cpu", "--linear-eval", "cached", "--output", "run"]);
        Assert.True(code == 0, err);
        var result = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "run", "linear_eval_cached.json")))!["result"]!;
        double accuracy = (double)result["test_accuracy"]!;
        var page = Path.Combine(dir, "run", ReportPage.FileName);

        // Offline (no network namespace needed: the page names no other host), as root without the sandbox, as CI runs.
        var (dom, log) = Chromium(dir, "--dump-dom", new Uri(page).AbsoluteUri);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"linear evaluation (cached) {100 * accuracy:F2}% test"), WebUtility.HtmlDecode(dom));
        Assert.Contains("<section class=\"confusion\">", dom);
        Assert.DoesNotMatch("Uncaught|SyntaxError|Refused to", log);

        var png = Path.Combine(dir, "page.png");
        Chromium(dir, $"--screenshot={png}", "--window-size=1200,2400", new Uri(page).AbsoluteUri);
        var pixels = Pixels.Read(png);
        Assert.Equal((1200, 2400), (pixels.Width, pixels.Height));
        // Not blank: a page of text, charts and pictures paints many colours.
        var colours = new HashSet<int>();
        for (int i = 0; i < pixels.Data.Length; i += 3) colours.Add(pixels.Data[i] << 16 | pixels.Data[i + 1] << 8 | pixels.Data[i + 2]);
        Assert.True(colours.Count > 100, $"{colours.Count} colours");
    }

    private static (string Out, string Err) Chromium(string dir, params string[] args)
    {
        var start = new ProcessStartInfo("chromium") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr", "--v=0", $"--user-data-dir={Path.Combine(dir, "chromium")}" }.Concat(args))
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var err = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("chromium did not finish in 2 minutes");
        }
        return (output, err.Result);
    }
}

using System.Diagnostics;
using Aavae.Checkpoints;
using Aavae.Training;
using Aavae.Runs;
using Aavae.Options;

namespace Aavae.Tests.Cli;

/// <summary>The <c>aavae pretrain</c> program end to end: the paper's flags, Ctrl-C, refusals.</summary>
[Trait(Category.Name, Category.Slow)]
public class PretrainCommandTests
{
    internal static readonly string[] Small = ["--encoder", "resnet18", "--width", "4", "--latent-dim", "8", "--knn-every", "0", "--device", "cpu"];

    [Fact]
    public void ThePapersCommandRunsAsPrintedAndLandsInTheConfiguration()
    {
        var dir = TempDir.Create();
        string[] paper = ["--gpus", "0", "--max_epochs", "3200", "--batch_size", "256", "--warmup_epochs", "10", "--val_samples", "16", "--weight_decay", "0",
            "--logscale", "0", "--kl_coeff", "0", "--learning_rate", "2.5e-4", "--denoising"];
        var (code, _, err) = CliRunner.Run(dir, ["pretrain", .. paper, .. Small, "--max-steps", "1", "--limit-val-batches", "1", "--output", "run"]);
        Assert.True(code == 0, err);

        var o = PretrainOptions.FromJson(File.ReadAllText(Path.Combine(dir, "run", "config.json")));
        Assert.Equal((3200, 256, 10, 16, 0.0, 0.0, 0.0, 2.5e-4, true, "cpu"),
            (o.Trainer.MaxEpochs, o.Data.BatchSize, o.Optimizer.WarmupEpochs, o.Objective.ValSamples, o.Optimizer.WeightDecay, o.Model.LogScale, o.Objective.KlCoeff, o.Optimizer.LearningRate, o.Augmentation.Denoising, o.Trainer.Device.ToString()));
        Assert.Equal(1, TrainingCheckpoint.Read(Path.Combine(dir, "run", "checkpoints", "last.ckpt")).Position.GlobalStep);
    }

    [Fact]
    public void TheReferencesAeOnAnotherEncoderKeepsDecoder50AndTheAeDefaults()
    {
        var dir = TempDir.Create();
        var (code, _, err) = CliRunner.Run(dir, ["pretrain", "--preset", "reference", "--model", "ae", .. Small, "--max-steps", "1", "--limit-val-batches", "0", "--output", "run"]);
        Assert.True(code == 0, err);
        var o = PretrainOptions.FromJson(File.ReadAllText(Path.Combine(dir, "run", "config.json")));
        Assert.Equal(("resnet18", "decoder50", Aavae.Models.ModelKind.Ae, 1e-6, 10, false),
            (o.Model.Encoder, o.Model.DecoderName, o.Model.Kind, o.Optimizer.WeightDecay, o.Optimizer.WarmupEpochs, o.Augmentation.Denoising));
        using var weights = PretrainedWeights.Read(Path.Combine(dir, "run", "checkpoints", "last.ckpt"));
        Assert.Equal("decoder50", weights.Options.DecoderName);
    }

    [Fact]
    public void ATimeBudgetFitsTheRunAndItsEvaluationInsideItAndTheScheduleEndsWithTheRun()
    {
        var dir = TempDir.Create();
        var budget = TimeSpan.FromSeconds(45);
        var clock = Stopwatch.StartNew();
        var (code, stdout, err) = CliRunner.Run(dir, ["pretrain", .. Small, "--batch-size", "32", "--max-time", "45s", "--limit-train-batches", "20", "--limit-val-batches", "2",
            "--linear-eval", "cached", "--output", "run"]);
        clock.Stop();
        Assert.True(code == 0, err);
        // The whole job, the evaluation and the process's start and end included; a margin for a machine other tests keep busy.
        Assert.True(clock.Elapsed < budget * 1.25, $"{clock.Elapsed} for a budget of {budget}:\n{stdout}");
        Assert.Contains("as many epochs as --max-time 00:00:00:45 allows", stdout);
        var said = System.Text.RegularExpressions.Regex.Matches(stdout, @"time budget 00:00:00:45: (\d+) steps");
        Assert.InRange(said.Count, 1, 2);
        Assert.Contains("top-1 test accuracy", stdout);

        var run = Path.Combine(dir, "run");
        var plan = PretrainOptions.Read(Path.Combine(run, "config.json")).Trainer.Plan;
        Assert.NotNull(plan);
        Assert.Equal(long.Parse(said[^1].Groups[1].Value), plan.Steps);
        Assert.Equal(plan.Steps, TrainingCheckpoint.Read(Path.Combine(run, "checkpoints", "last.ckpt")).Position.GlobalStep);
        // The decay ends with the run: its last epoch trains at a small fraction of the base rate (Lightning's max_time would cut it off near the top).
        var rows = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        int lr = Array.IndexOf(rows[0].Split(','), "lr");
        double last = double.Parse(rows[^1].Split(',')[lr], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(plan.Steps > 40 && last < 0.1 * Presets.Get("cpu-small").Optimizer.LearningRate, $"{plan.Steps} steps, last epoch's mean lr {last}");
    }

    [Fact]
    public void WithoutAPresetTheCpuOneStartsAndTheStartSaysWhichInAFewLines()
    {
        var dir = TempDir.Create();
        var (code, stdout, err) = CliRunner.Run(dir, ["pretrain", .. Small, "--max-steps", "1", "--limit-val-batches", "0", "--output", "run"]);
        Assert.True(code == 0, err);
        var o = PretrainOptions.FromJson(File.ReadAllText(Path.Combine(dir, "run", "config.json")));
        var small = Presets.Get("cpu-small");
        Assert.Equal((small.Data.BatchSize, small.Optimizer.LearningRate, small.Trainer.MaxEpochs), (o.Data.BatchSize, o.Optimizer.LearningRate, o.Trainer.MaxEpochs));
        // The start: which preset, the model, the data, what differs from the preset, the folder; the whole configuration stays in config.json.
        var start = stdout.Split('\n').TakeWhile(l => !l.StartsWith("device ", StringComparison.Ordinal)).ToList();
        Assert.Equal("pretrain: new run, preset cpu-small (the default; --preset names another)", start[0]);
        Assert.InRange(start.Count, 4, 6);
        var settings = Assert.Single(start, l => l.StartsWith("settings: cpu-small's, except ", StringComparison.Ordinal));
        Assert.All(new[] { "--latent-dim 8", "--width 4", "--max-steps 1", "--device cpu" }, typed => Assert.Contains(typed, settings));
        Assert.DoesNotContain("--encoder", settings);
        Assert.DoesNotContain("{", string.Join("\n", start));
    }

    [Theory]
    [InlineData("--kl-coeff", "-1", "--kl-coeff must be >= 0, got -1")]
    [InlineData("--input-size", "30", "--input-size 30 cannot be produced by the decoder")]
    [InlineData("--optimizer", "sgd", "--optimizer sgd: expected adam or lamb")]
    [InlineData("--jitter-strength", "3", "--jitter-strength must lie in [0, 2.5]")]
    [InlineData("--warmup-epochs", "-0.5", "--warmup-epochs must lie in [0, 100000], got -0.5")]
    [InlineData("--precision", "bf17", "--precision bf17: expected 32-true, bf16-mixed, 16-mixed or auto")]
    [InlineData("--memory-format", "nhwc", "--memory-format nhwc: expected contiguous or channels_last")]
    [InlineData("--threads", "0", "--threads must lie in [1, 4096], got 0")]
    public void ALibraryRefusalNamesTheFlagTheUserTyped(string flag, string value, string expected)
    {
        var (code, _, err) = CliRunner.Run(TempDir.Create(), ["pretrain", .. Small, flag, value, "--output", "run"]);
        Assert.Equal(2, code);
        Assert.Contains(expected, err);
    }

    [Fact]
    public void TheReferencesFp16FlagIsReadAndRefusedWithTheWayOut()
    {
        var (code, _, err) = CliRunner.Run(TempDir.Create(), ["pretrain", .. Small, "--fp16", "--output", "run"]);
        Assert.Equal(2, code);
        Assert.Contains("--precision 16-mixed (the reference's --fp16", err);
        Assert.Contains("use --precision bf16-mixed", err);
    }

    [Fact]
    public void Bf16MixedAndTheLayoutLandInTheConfigurationAndTheCheckpoint()
    {
        var dir = TempDir.Create();
        var (code, _, err) = CliRunner.Run(dir, ["pretrain", .. Small, "--precision", "bf16-mixed", "--memory-format", "contiguous", "--threads", "1", "--logscale", "-0.5", "--max-steps", "2", "--limit-val-batches", "1", "--output", "run"]);
        Assert.True(code == 0, err);
        var o = PretrainOptions.FromJson(File.ReadAllText(Path.Combine(dir, "run", "config.json")));
        // --logscale: the seed README's CIFAR-10 command spells it so.
        Assert.Equal((Aavae.Runtime.Precision.Bf16Mixed, Aavae.Runtime.MemoryFormat.Contiguous, (int?)1, -0.5), (o.Trainer.Precision, o.Trainer.MemoryFormat, o.Trainer.Threads, o.Model.LogScale));
        var content = TorchFile.Read(Path.Combine(dir, "run", "checkpoints", "last.ckpt"));
        var hyper = (System.Collections.IDictionary)content["hyper_parameters"]!;
        Assert.Equal(("bf16-mixed", false), (hyper["precision"], hyper["fp16"]));
        // Master weights stay float32 and finite after bf16 steps.
        using var weights = PretrainedWeights.Read(Path.Combine(dir, "run", "checkpoints", "last.ckpt"));
        Assert.All(weights.StateDict.Values.Where(t => t.is_floating_point()), t =>
        {
            Assert.Equal(TorchSharp.torch.ScalarType.Float32, t.dtype);
            Assert.True(t.isfinite().all().item<bool>());
        });
    }

    [Fact]
    public void PrecisionAutoIsRecordedAsWhatTheRunComputesIn()
    {
        // The CPU's own word on its bfloat16 units, the flags Linux lists for it: bfloat16 outruns float32
        // with AMX and on AMD's AVX512-BF16, not on Intel's without AMX (bench/NOTES.md, section 26).
        var cpuinfo = File.ReadLines("/proc/cpuinfo").ToList();
        var flags = cpuinfo.First(l => l.StartsWith("flags", StringComparison.Ordinal)).Split(' ');
        bool amd = cpuinfo.Any(l => l.StartsWith("vendor_id", StringComparison.Ordinal) && l.EndsWith("AuthenticAMD", StringComparison.Ordinal));
        var expected = flags.Contains("amx_bf16") || (amd && flags.Contains("avx512_bf16")) ? "bf16-mixed" : "32-true";
        var dir = TempDir.Create();
        var (code, _, err) = CliRunner.Run(dir, ["pretrain", .. Small, "--precision", "auto", "--max-steps", "1", "--limit-val-batches", "1", "--output", "run"]);
        Assert.True(code == 0, err);
        Assert.Contains($"\"precision\": \"{expected}\"", File.ReadAllText(Path.Combine(dir, "run", "config.json")));
        var hyper = (System.Collections.IDictionary)TorchFile.Read(Path.Combine(dir, "run", "checkpoints", "last.ckpt"))["hyper_parameters"]!;
        Assert.Equal(expected, hyper["precision"]);
    }

    [Fact]
    public async Task CtrlCWritesACheckpointAndExitsWith130()
    {
        var dir = TempDir.Create();
        // env execs the program in its own process, so p.Id is the program's.
        using var p = CliRunner.StartWithDefaultSigint(dir, ["pretrain", .. Small, "--batch-size", "16", "--max-epochs", "1", "--output", "run"]);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        string output, errors;
        try
        {
            var config = Path.Combine(dir, "run", "config.json");
            var clock = Stopwatch.StartNew();
            while (!File.Exists(config) && !p.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(100);
            Thread.Sleep(2000);
            Assert.False(p.HasExited, "aavae pretrain exited before it could be interrupted");
            Process.Start("kill", ["-INT", p.Id.ToString()])!.WaitForExit();
            Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "aavae pretrain did not stop within 2 minutes of SIGINT");
        }
        finally
        {
            // A child that did not stop is not left running beside the rest of the suite.
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
        (output, errors) = (await stdout, await stderr);

        Assert.True(p.ExitCode == 130, output + errors);
        var position = TrainingCheckpoint.Read(Path.Combine(dir, "run", "checkpoints", "last.ckpt")).Position;
        Assert.Equal(0, position.Epoch);
        Assert.True(position.Batch > 0 && position.GlobalStep == position.Batch);
        Assert.Contains("--resume", output);
    }

    [Fact]
    public void AnOutputFolderHoldingAnotherRunIsLeftAlone()
    {
        var dir = TempDir.Create();
        var run = new RunFolder(Path.Combine(dir, "run"));
        Directory.CreateDirectory(run.Checkpoints);
        File.WriteAllText(run.Config, "{\"theirs\": true}");
        var (code, _, err) = CliRunner.Run(dir, ["pretrain", .. Small, "--output", "run"]);
        Assert.Equal(2, code);
        Assert.Contains("already holds a run", err);
        Assert.Equal("{\"theirs\": true}", File.ReadAllText(run.Config));
    }

    [Fact]
    public void AResumeIntoAFolderHoldingAnotherRunIsRefusedAndARunInUseIsNamedByItsProcess()
    {
        var dir = TempDir.Create();
        var (code, _, err) = CliRunner.Run(dir, ["pretrain", .. Small, "--max-steps", "1", "--limit-val-batches", "0", "--output", "a"]);
        Assert.True(code == 0, err);
        var other = new RunFolder(Path.Combine(dir, "b"));
        Directory.CreateDirectory(other.Checkpoints);
        File.WriteAllText(other.Config, "{\"theirs\": true}");

        (code, _, err) = CliRunner.Run(dir, ["pretrain", "--resume", "a", "--output", "b"]);
        Assert.Equal(2, code);
        Assert.Contains("--output b already holds a run", err);
        Assert.Equal("{\"theirs\": true}", File.ReadAllText(other.Config));

        // This test process holds run a: a resume of it, or a new run into it, is refused with the holder's id.
        using (RunLock.Acquire(Path.Combine(dir, "a")))
        {
            (code, _, err) = CliRunner.Run(dir, ["pretrain", "--resume", "a", "--max-epochs", "2"]);
            Assert.Equal(2, code);
            Assert.Contains($"is in use by process {Environment.ProcessId}", err);
            (code, _, err) = CliRunner.Run(dir, ["pretrain", .. Small, "--output", "a", "--overwrite"]);
            Assert.Equal(2, code);
            Assert.Contains($"is in use by process {Environment.ProcessId}", err);
        }
        Assert.True(File.Exists(Path.Combine(dir, "a", "checkpoints", "last.ckpt")));
    }

    [Fact]
    public void AnUnknownOptionIsNamed()
    {
        var (code, _, err) = CliRunner.Run(TempDir.Create(), "pretrain", "--learning-rat", "0.1");
        Assert.Equal(2, code);
        Assert.Contains("--learning-rat", err);
    }

    [Theory]
    [InlineData("--learning-rate", "-1", "--learning-rate")]
    [InlineData("--kl_coeff", "-0.5", "--kl-coeff")]
    [InlineData("--gpus", "2", "--gpus 2")]
    [InlineData("--batch-size", "70000", "--batch-size 70000")]
    [InlineData("--optimizer", "sgd", "--optimizer sgd")]
    public void BadValuesGetOneLineNamingTheFlag(string flag, string value, string named)
    {
        var dir = TempDir.Create();
        var (code, _, err) = CliRunner.Run(dir, ["pretrain", .. Small, flag, value, "--output", "run"]);
        Assert.Equal(2, code);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains(named, err);
        Assert.False(Directory.Exists(Path.Combine(dir, "run")));
    }
}

using System.Globalization;
using Aavae.Training;
using Aavae.Checkpoints;
using Aavae.Options;

namespace Aavae.Tests.Distributed;

/// <summary>
/// Data-parallel pre-training with two processes on this machine, under Open MPI's and MPICH's
/// launchers: averaged gradients equal one process's, weights stay identical on every process,
/// a dead process ends the job without harming the last checkpoint, a run continues on fewer processes.
/// </summary>
public class DataParallelTests
{
    private static readonly string[] Small =
        ["pretrain", "--preset", "cpu-small", "--width", "4", "--latent-dim", "8", "--batch-size", "16", "--precision", "32", "--knn-every", "0", "--limit-val-batches", "1", "--device", "cpu"];

    [RequiresTheory(Need.Mpi)]
    [InlineData("openmpi")]
    [InlineData("mpich")]
    public void AveragedGradientsEqualOneProcessWithTheGlobalBatch(string family)
    {
        var (code, output, err) = MpiLauncher.Get(family).Run(2, MpiLauncher.Worker, ["gradients"], TempDir.Create());
        Assert.True(code == 0, err);
        var ranks = MpiLauncher.Lines(output);
        Assert.Equal([0, 1], ranks.Keys.Order());
        foreach (var (rank, lines) in ranks)
        {
            Assert.Equal("2", lines["processes"]);
            // float64 decoder and objective: the averaged shard gradients against the whole batch's.
            Assert.True(double.Parse(lines["max_abs_diff"], CultureInfo.InvariantCulture) <= 1e-6, $"rank {rank}: {lines["max_abs_diff"]}");
            Assert.True(double.Parse(lines["max_abs_grad"], CultureInfo.InvariantCulture) > 1, "the gradients are not trivially small");
        }
        Assert.Equal(ranks[0]["grad_digest"], ranks[1]["grad_digest"]);
    }

    [RequiresTheory(Need.Mpi)]
    [InlineData("openmpi")]
    [InlineData("mpich")]
    public void AfterSixStepsEveryProcessHoldsTheSameWeightsAndTheLossesTrackOneProcess(string family)
    {
        var launcher = MpiLauncher.Get(family);
        var (code, output, err) = launcher.Run(2, MpiLauncher.Worker, ["train", Path.Combine(TempDir.Create(), "run"), "6"], TempDir.Create());
        Assert.True(code == 0, err);
        var (singleCode, singleOutput, singleErr) = launcher.Run(0, MpiLauncher.Worker, ["train", Path.Combine(TempDir.Create(), "run"), "6"], TempDir.Create());
        Assert.True(singleCode == 0, singleErr);
        var ranks = MpiLauncher.Lines(output);
        var single = MpiLauncher.Lines(singleOutput)[0];

        Assert.Equal("2", ranks[0]["processes"]);
        Assert.Equal("1", single["processes"]);
        Assert.Equal("6", ranks[0]["steps"]);
        // Bit-identical: the same averaged gradients, optimizer and rank 0's BatchNorm statistics everywhere.
        Assert.Equal(ranks[0]["weights_digest"], ranks[1]["weights_digest"]);
        Assert.Equal(ranks[0]["losses"], ranks[1]["losses"]);
        // The same images and views as one process; BatchNorm's batch statistics over half batches
        // and each process's own posterior noise move the loss by about 1e-6 relative (measured): 1e-3 allowed.
        var parallel = Losses(ranks[0]["losses"]);
        var alone = Losses(single["losses"]);
        Assert.Equal(6, parallel.Length);
        for (int i = 0; i < 6; i++)
            Assert.True(Math.Abs(parallel[i] - alone[i]) <= 1e-3 * Math.Abs(alone[i]), $"step {i}: {parallel[i]} vs {alone[i]}");
    }

    [RequiresFact(Need.Mpi)]
    public void TheReferencesBatchSizeSpellingIsPerProcessAndTheGlobalBatchIsSaid()
    {
        // vae.py under DDP: --batch_size images on each process. --batch-size stays the global batch (the test above).
        var run = Path.Combine(TempDir.Create(), "run");
        string[] args = [.. Small.Where((_, i) => i is not (7 or 8)), "--batch_size", "8", "--max-steps", "1", "--output", run];
        var (code, output, err) = MpiLauncher.Get("openmpi").Run(2, CliRunner.Program, args, TempDir.Create());
        Assert.True(code == 0, err);
        Assert.Contains("--batch_size 8 is per process, as the reference reads it: a global batch of 16 over 2 processes", output);
        Assert.Equal(16, PretrainOptions.Read(Path.Combine(run, "config.json")).Data.BatchSize);
    }

    [RequiresTheory(Need.Mpi)]
    [InlineData("openmpi", 2)]
    [InlineData("mpich", 3)]
    public void KillingOneProcessEndsTheJobNamesItAndLeavesTheLastCheckpointWhole(string family, int processes)
    {
        var launcher = MpiLauncher.Get(family);
        var run = Path.Combine(TempDir.Create(), "killed-" + family);
        using var job = launcher.Start(processes, CliRunner.Program, [.. Global(24), "--max-epochs", "200", "--limit-train-batches", "10", "--output", run], TempDir.Create());
        var last = Path.Combine(run, "checkpoints", "last.ckpt");
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!File.Exists(Path.Combine(run, "checkpoints", "epoch=0001.ckpt")) && !job.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(100);
        Assert.False(job.HasExited, job.HasExited ? job.StandardError.ReadToEnd() : "");
        // At some step of the third epoch or later, on any rank.
        var random = new Random();
        Thread.Sleep(random.Next(0, 1500));
        var ranks = MpiLauncher.Ranks(run);
        Assert.Equal(processes, ranks.Count);
        int victim = ranks[random.Next(ranks.Count)];
        var killed = DateTime.UtcNow;
        System.Diagnostics.Process.GetProcessById(victim).Kill();
        var (code, output, err) = MpiLauncher.Finish(job, TimeSpan.FromMinutes(1));

        // The launcher ends the others at once (its own error handling: a process that dies ends the job).
        Assert.True(DateTime.UtcNow - killed < TimeSpan.FromSeconds(30), $"the job ended {DateTime.UtcNow - killed} after the kill");
        Assert.NotEqual(0, code);
        Assert.Empty(MpiLauncher.RanksLeft(run));
        // One line names the lost process by rank, host and pid (rank 0's first lines map ranks to host:pid);
        // the launcher's own report names a process too, but MPICH's is often a survivor it has just killed.
        var place = System.Text.RegularExpressions.Regex.Match(output, $@"ranks at host:pid .*?(\d+) ([^ ,:]+):{victim}\b");
        Assert.True(place.Success, output);
        var said = System.Text.RegularExpressions.Regex.Matches(err, @"aavae: rank (\d+) of (\d+) \(([^)]+)\) has ended while training ran");
        Assert.True(said.Count == 1, err);
        Assert.Equal((place.Groups[1].Value, $"{processes}", $"{place.Groups[2].Value}:{victim}"), (said[0].Groups[1].Value, said[0].Groups[2].Value, said[0].Groups[3].Value));
        var checkpoint = TrainingCheckpoint.Read(last);
        Assert.True(checkpoint.Position.Epoch >= 2, $"last.ckpt at epoch {checkpoint.Position.Epoch}");
        Assert.Equal(0, checkpoint.Position.Batch);
    }

    [RequiresTheory(Need.Mpi)]
    [InlineData("openmpi", 3)]
    [InlineData("mpich", 1)]
    public void ARunOfTwoProcessesContinuesOnAnotherCountAsARunOnThatCountWould(string family, int processes)
    {
        var launcher = MpiLauncher.Get(family);
        var dir = TempDir.Create();
        var run = Path.Combine(dir, "resumed");
        string[] args = [.. With(Global(24), "--limit-val-batches", "4"), "--limit-train-batches", "3"];
        var (code, output, err) = launcher.Run(2, CliRunner.Program, [.. args, "--max-epochs", "1", "--output", run], dir);
        Assert.True(code == 0, err);
        Assert.Contains("data-parallel: 2 processes", output);
        Assert.Equal(3, TrainingCheckpoint.Read(Path.Combine(run, "checkpoints", "last.ckpt")).Position.GlobalStep);

        // The global batch and the schedule stay; each process's share is recomputed.
        (code, output, err) = launcher.Run(processes, CliRunner.Program, ["pretrain", "--resume", run, "--max-epochs", "2"], dir);
        Assert.True(code == 0, err);
        if (processes > 1) Assert.Contains($"data-parallel: {processes} processes over {(family == "mpich" ? "MPICH" : "Open MPI")}", output);
        if (processes > 1) Assert.Contains($"{24 / processes} images each per step", output);
        var position = TrainingCheckpoint.Read(Path.Combine(run, "checkpoints", "last.ckpt")).Position;
        Assert.Equal((2, 0, 6L), (position.Epoch, position.Batch, position.GlobalStep));
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, "metrics.csv")).Length);
        // Processes that end together at the run's end are not taken for lost ones.
        Assert.DoesNotContain("has ended while training", output + err);

        // The same 6 steps on the new count from the start: the same images in the same global batches,
        // the optimizer's state carried over; batch statistics and posterior noise per process differ.
        var straight = Path.Combine(dir, "straight");
        (code, _, err) = launcher.Run(processes == 1 ? 0 : processes, CliRunner.Program, [.. args, "--max-epochs", "2", "--output", straight], dir);
        Assert.True(code == 0, err);
        double resumed = Column(run, "val_loss"), uninterrupted = Column(straight, "val_loss");
        Assert.True(Math.Abs(resumed - uninterrupted) <= 0.01 * uninterrupted, $"val_loss {resumed} resumed on {processes}, {uninterrupted} on {processes} from the start");
    }

    [RequiresFact(Need.Mpi)]
    public void AResumeOnACountTheGlobalBatchDoesNotDivideIsRefusedInOneLine()
    {
        var dir = TempDir.Create();
        var run = Path.Combine(dir, "run");
        var (code, _, err) = CliRunner.Run(dir, [.. Global(24), "--max-epochs", "1", "--limit-train-batches", "1", "--output", run]);
        Assert.True(code == 0, err);
        (code, var output, err) = MpiLauncher.OpenMpi.Run(5, CliRunner.Program, ["pretrain", "--resume", run, "--max-epochs", "2"], dir);
        Assert.Equal(2, code);
        var errors = System.Text.RegularExpressions.Regex.Matches(output + err, "error: --batch-size 24 \\(the global batch\\) must be a multiple of the 5 processes");
        Assert.Single(errors);
        Assert.Contains("rank 0 of 5: error", err);
        Assert.Equal(1, TrainingCheckpoint.Read(Path.Combine(run, "checkpoints", "last.ckpt")).Position.GlobalStep);
    }

    [RequiresTheory(Need.Mpi)]
    [InlineData("mpich")]
    public void UnderATimeBudgetEveryProcessPlansTheSameStepsAndStopsThere(string family)
    {
        var launcher = MpiLauncher.Get(family);
        var run = Path.Combine(TempDir.Create(), "budget");
        var (code, output, err) = launcher.Run(2, CliRunner.Program, [.. Small, "--max-time", "40s", "--limit-train-batches", "10", "--output", run], TempDir.Create());
        Assert.True(code == 0, err);
        var plan = PretrainOptions.Read(Path.Combine(run, "config.json")).Trainer.Plan;
        Assert.NotNull(plan);
        // Rank 0 alone speaks; the others planned the same steps from the same averaged timings, or the all-reduce of a step one of them skipped would hang.
        Assert.Contains($"time budget 00:00:00:40: {plan.Steps} steps", output);
        // They stop together at the plan's last step, or earlier at the step where the guard found the
        // time up on any of them (half the margin between the two: 3.5 s and a sixth of the work after
        // training, inside a shared machine's wander); either way at one step, which rank 0's checkpoint holds.
        var early = System.Text.RegularExpressions.Regex.Match(output, "training time is up at step (\\d+)");
        long stopped = early.Success ? long.Parse(early.Groups[1].Value) : plan.Steps;
        Assert.InRange(stopped, 1, plan.Steps);
        Assert.Equal(stopped, TrainingCheckpoint.Read(Path.Combine(run, "checkpoints", "last.ckpt")).Position.GlobalStep);
        Assert.Empty(MpiLauncher.RanksLeft(run));
    }

    [RequiresTheory(Need.Mpi)]
    [InlineData("openmpi", "TERM")]
    [InlineData("mpich", "INT")]
    public void AStopFromTheLauncherWritesLastCheckpointOnceAtTheStepTheProcessesAgreedOn(string family, string signal)
    {
        var launcher = MpiLauncher.Get(family);
        var run = Path.Combine(TempDir.Create(), "stopped");
        using var job = launcher.Start(2, CliRunner.Program, [.. Small, "--max-epochs", "200", "--limit-train-batches", "10", "--output", run], TempDir.Create());
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!File.Exists(Path.Combine(run, "checkpoints", "epoch=0000.ckpt")) && !job.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(100);
        Thread.Sleep(300);
        using (var kill = System.Diagnostics.Process.Start("kill", ["-" + signal, job.Id.ToString()])) kill.WaitForExit();
        var (code, output, err) = MpiLauncher.Finish(job, TimeSpan.FromMinutes(1));

        // Every rank exits 130 (interrupted). The launchers' own codes are theirs: Open MPI's mpirun exits 1
        // after any signal it is sent; MPICH's mpiexec passes 130 on, or exits 0 when its SIGINT races the processes' ends.
        Assert.True(family == "mpich" ? code is 130 or 0 : code == 1, $"exit {code}: {output}{err}");
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(output + err, "interrupted at epoch"));
        var position = TrainingCheckpoint.Read(Path.Combine(run, "checkpoints", "last.ckpt")).Position;
        Assert.True(position.GlobalStep > 10, $"stopped at step {position.GlobalStep}");
        Assert.Empty(MpiLauncher.RanksLeft(run));

        // --resume continues it: the epoch it stopped in ends where it would have.
        (code, output, err) = launcher.Run(2, CliRunner.Program, ["pretrain", "--resume", run, "--max-epochs", $"{position.Epoch + 1}"], TempDir.Create());
        Assert.True(code == 0, err);
        Assert.Contains($"resuming at epoch {position.Epoch}, batch {position.Batch} (step {position.GlobalStep})", output);
        var end = TrainingCheckpoint.Read(Path.Combine(run, "checkpoints", "last.ckpt")).Position;
        Assert.Equal((position.Epoch + 1, 0, (position.Epoch + 1) * 10L), (end.Epoch, end.Batch, end.GlobalStep));
    }

    [RequiresTheory(Need.Mpi)]
    [InlineData("openmpi")]
    [InlineData("mpich")]
    public void OneProcessFailingEndsTheWholeJobWithALineNamingIt(string family)
    {
        var launcher = MpiLauncher.Get(family);
        var dir = TempDir.Create();
        var missing = Path.Combine(dir, "no-such-data");
        string[] common = [.. Small, "--max-epochs", "1", "--limit-train-batches", "3", "--output", Path.Combine(dir, "run")];
        // Two programs in one job (the launchers' colon syntax): rank 1 alone is told to read data that is not there.
        var (code, _, err) = launcher.Run(1, CliRunner.Program, [.. common, ":", "-np", "1", "dotnet", CliRunner.Program, .. common, "--data-dir", missing], dir,
            TimeSpan.FromMinutes(1));
        Assert.NotEqual(0, code);
        Assert.Matches($"aavae: rank 1 of 2: error: .*{System.Text.RegularExpressions.Regex.Escape(missing)}", err);
        Assert.DoesNotContain("rank 0 of 2: error", err);
        Assert.Empty(MpiLauncher.RanksLeft(dir));
    }

    [RequiresFact(Need.Mpi)]
    public void PrecisionAutoTakesBfloat16OnlyWhereItIsFasterOnEveryProcess()
    {
        // Two "hosts" of different CPUs: both read an AMX Xeon's flags (the ranks inherit the launcher's
        // environment), where auto alone takes bf16-mixed, then rank 1's oneDNN is held below the bf16
        // units (as a Zen 3's would lack them).
        var dir = TempDir.Create();
        var amx = Path.Combine(dir, "cpuinfo");
        File.WriteAllText(amx, "vendor_id\t: GenuineIntel\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n");
        var launcher = MpiLauncher.OpenMpi with { Environment = new(MpiLauncher.OpenMpi.Environment) { [Aavae.Runtime.CpuInfo.FileVariable] = amx } };
        Aavae.Runtime.Precision Recorded(string run) => PretrainOptions.Read(Path.Combine(run, "config.json")).Trainer.Precision;
        foreach (var (name, capRank1, expected) in new[] { ("alike", false, Aavae.Runtime.Precision.Bf16Mixed), ("mixed", true, Aavae.Runtime.Precision.Full32) })
        {
            string[] args = [.. With(Small, "--precision", "auto"), "--max-epochs", "1", "--limit-train-batches", "2", "--output", Path.Combine(dir, name)];
            string[] cap = capRank1 ? ["-x", "ONEDNN_MAX_CPU_ISA=AVX2"] : [];
            var (code, output, err) = launcher.Run(1, CliRunner.Program, [.. args, ":", "-np", "1", .. cap, "dotnet", CliRunner.Program, .. args], dir);
            Assert.True(code == 0, err);
            Assert.Contains("data-parallel: 2 processes", output);
            Assert.Equal(expected, Recorded(Path.Combine(dir, name)));
        }
    }

    private static double Column(string run, string name)
    {
        var rows = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        return double.Parse(rows[^1].Split(',')[Array.IndexOf(rows[0].Split(','), name)], CultureInfo.InvariantCulture);
    }

    /// <summary>The small run at a global batch of <paramref name="batch"/>.</summary>
    private static string[] Global(int batch) => With(Small, "--batch-size", batch.ToString());

    private static string[] With(string[] args, string option, string value) => [.. args.Select((a, i) => i > 0 && args[i - 1] == option ? value : a)];

    private static double[] Losses(string text) => text.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
}

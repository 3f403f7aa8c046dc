using Aavae.Bench;
using Aavae.Runtime;

// Usage: dotnet run -c Release --project bench/Aavae.Bench [-- --quick] [--json FILE] [--only PREFIX,PREFIX] [--threads N]
//        dotnet run -c Release --project bench/Aavae.Bench -- --guard [--batch N]   (the convolution guard's cost)
//        dotnet run -c Release --project bench/Aavae.Bench -- --isa-map [--encoder resnet18] [--isas native,AVX2,AVX,SSE41] [--widths 4,8,16,32,64] [--batches 16,128] [--eval-batch 256]
//                                                                     (which convolution calls crash, hang or are wrong under each oneDNN ISA cap)
//        dotnet run -c Release --project bench/Aavae.Bench -- --long-memory [--steps N]   (resident memory of a tiny model over 10,000 steps)
//        dotnet run -c Release --project bench/Aavae.Bench -- --trainer-memory [--steps N]   (resident memory of aavae pretrain over 10,000 steps)
//        dotnet run -c Release --project bench/Aavae.Bench -- --contention   (a step beside another job: threads fixed or shared)
//        dotnet run -c Release --project bench/Aavae.Bench -- --data-parallel   (1 vs 2 processes under Open MPI and MPICH, and the N-machine cost model)
//        dotnet run -c Release --project bench/Aavae.Bench -- --links   (as root: two processes on two emulated hosts over TCP, links of several speeds; the cost model fitted to them)
//        (the driver starts itself with --worker ROW, or under mpirun with --dp-worker CONFIG or --dp-allreduce, for each measurement)
string? Arg(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

TorchRuntime.EnsureLoaded();
int threads = int.Parse(Arg("--threads") ?? Environment.ProcessorCount.ToString());
if (Arg("--worker") is { } workerRow)
{
    TorchSharp.torch.set_num_threads(threads);
    var m = Worker.Run(workerRow, int.Parse(Arg("--warmup") ?? "2"), int.Parse(Arg("--steps") ?? "5"));
    Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(m));
    return 0;
}

if (Arg("--dp-worker") is { } dpConfig)
{
    // Under a launcher ProcessGroups splits the cores among the processes; alone it gets --threads.
    TorchSharp.torch.set_num_threads(threads);
    DataParallelBench.Worker(dpConfig, Arg("--launcher") ?? "-", Console.Out);
    return 0;
}

if (args.Contains("--dp-allreduce"))
{
    DataParallelBench.AllReduceSweep(Console.Out);
    return 0;
}

if (args.Contains("--links"))
{
    LinkBench.Run(typeof(LinkBench).Assembly.Location, Console.Out);
    return 0;
}

if (args.Contains("--data-parallel"))
{
    DataParallelBench.Run(typeof(DataParallelBench).Assembly.Location, threads, Console.Out);
    return 0;
}

if (args.Contains("--long-memory"))
{
    // Resident memory of a tiny model over 10,000 steps: after warm-up it may never rise more than 5% above its level then. Its
    // level saws between the trainer's malloc trims (every 50 steps): the level is the top of the last warm-up cycle, and the
    // table also shows the rise from the trough just after a trim, which is the saw's height plus any growth.
    const string row = "drift:resnet18:4:16:16:cl";
    int steps = int.Parse(Arg("--steps") ?? "10000");
    var m = Driver.Run("dotnet", [typeof(Worker).Assembly.Location, "--worker", row, "--warmup", "200", "--steps", $"{steps}", "--threads", $"{threads}"]);
    Console.WriteLine("| row | steps after warm-up | RSS after warm-up MB (after a trim / top of its last cycle) | highest RSS after MB | highest rise over the top | over the trough | RSS at end MB | img/s |");
    Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
    Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"| {row} | {steps} | {m.RssAfterWarmupMb:F0} / {m.RssWarmupCyclePeakMb:F0} | {m.RssMaxAfterWarmupMb:F0} | {m.MaxGrowthOverCyclePercent:F1}% | {m.MaxGrowthPercent:F1}% | {m.RssEndMb:F0} | {m.ImagesPerSecond:F0} |"));
    return m.MaxGrowthOverCyclePercent <= 5 ? 0 : 1;
}

if (args.Contains("--trainer-memory"))
{
    return TrainerMemoryBench.Run(AavaeProgram(), int.Parse(Arg("--steps") ?? "10000"), Console.Out);
}

if (args.Contains("--contention"))
{
    Console.WriteLine($"{threads} threads");
    ContentionBench.Run(typeof(ContentionBench).Assembly.Location, threads, Console.Out);
    return 0;
}

// The aavae program serves the guard's trials; built with the bench (its project reference).
string AavaeProgram() => Path.Combine(RepositoryRoot(), "src", "Aavae.Cli", "bin", "Release", "net10.0", "aavae.dll");

string RepositoryRoot()
{
    var repo = AppContext.BaseDirectory;
    while (!File.Exists(Path.Combine(repo, "Aavae.slnx"))) repo = Path.GetDirectoryName(repo) ?? throw new InvalidOperationException("run the bench from the repository");
    return repo;
}

if (args.Contains("--isa-map"))
{
    var program = AavaeProgram();
    TorchSharp.torch.set_num_threads(threads);
    IReadOnlyList<T> List<T>(string name, string fallback, Func<string, T> parse) => (Arg(name) ?? fallback).Split(',').Select(parse).ToList();
    IsaMapBench.Run(Console.Out, program, Arg("--encoder") ?? "resnet18", List("--isas", "native,AVX2,AVX,SSE41", s => s),
        List("--widths", "4,8,16,32,64", int.Parse), List("--batches", "16,128", long.Parse), long.Parse(Arg("--eval-batch") ?? "256"));
    return 0;
}

if (Arg("--picture-folder") is { } pictures)
{
    TorchSharp.torch.set_num_threads(threads);
    PictureFolderBench.Run(Console.Out, pictures, int.Parse(Arg("--input-size") ?? "32"), AavaeProgram());
    return 0;
}

if (Arg("--picture-index") is { } indexSizes)
{
    TorchSharp.torch.set_num_threads(threads);
    PictureIndexBench.Run(Console.Out, indexSizes.Split(',').Select(int.Parse).ToList(), int.Parse(Arg("--dimension") ?? "256"));
    return 0;
}

if (args.Contains("--guard"))
{
    TorchSharp.torch.set_num_threads(threads);
    Console.WriteLine($"{threads} threads");
    GuardBench.Run(Console.Out, int.Parse(Arg("--batch") ?? "128"), AavaeProgram());
    return 0;
}

bool quick = args.Contains("--quick");
int Steps(int full) => quick ? Math.Max(2, full / 3) : full;
// Rows ending in ":cl" run channels-last on both sides (PyTorch at its best in float32; training's default here).
var rows = new List<BenchRow>
{
    new("step:resnet18:16:64:128", "pre-training step, w16 (cpu-small before 0.3.0), batch 128, NCHW", 2, Steps(8), true),
    new("step:resnet18:16:64:128:cl", "pre-training step, w16 (cpu-small before 0.3.0), batch 128, channels-last", 2, Steps(8), true),
    new("step:resnet18:16:64:128:cl:bf16", "pre-training step, w16 (cpu-small before 0.3.0), batch 128, channels-last, bf16-mixed (PyTorch: bf16 autocast)", 2, Steps(8), true),
    // cpu-small's step since it moved to width 32: bf16-mixed where the CPU has bfloat16 units, float32 elsewhere (--precision auto).
    new("step:resnet18:32:64:128:cl", "pre-training step, cpu-small (w32), batch 128, channels-last", 2, Steps(8), true),
    new("step:resnet18:32:64:128:cl:bf16", "pre-training step, cpu-small (w32), batch 128, channels-last, bf16-mixed (PyTorch: bf16 autocast)", 2, Steps(8), true),
    new("step:resnet18:64:128:64", "pre-training step, resnet18 w64, batch 64, NCHW", 1, Steps(5), true),
    new("step:resnet18:64:128:64:cl", "pre-training step, resnet18 w64, batch 64, channels-last", 1, Steps(5), true),
    new("step:resnet18:64:128:64:cl:bf16", "pre-training step, resnet18 w64, batch 64, channels-last, bf16-mixed (PyTorch: bf16 autocast)", 1, Steps(5), true),
    new("encode:resnet18:16:256:cl", "encoder forward (eval), w16, batch 256, channels-last", 3, Steps(15), true),
    new("encode:resnet18:32:256:cl", "encoder forward (eval), w32, batch 256, channels-last", 2, Steps(8), true),
    new("encode:resnet18:64:256:cl", "encoder forward (eval), w64, batch 256, channels-last", 2, Steps(6), true),
    new("onnx:resnet18:16:256", "encoder forward (eval), w16, batch 256, ONNX Runtime (against PyTorch channels-last; libtorch: the encode row)", 3, Steps(15), true,
        Baseline: "encode:resnet18:16:256:cl"),
    new("onnx:resnet18:64:256", "encoder forward (eval), w64, batch 256, ONNX Runtime (against PyTorch channels-last; libtorch: the encode row)", 2, Steps(6), true,
        Baseline: "encode:resnet18:64:256:cl"),
    new("eval:resnet18:32:256:cl", "linear evaluation's encoding (data, views, loader), w32, batch 256", 2, Steps(8), false),
    new("augment:32:256", "augmentation alone, 32x32, batch 256", 3, Steps(15), false),
    new("augment:96:256", "augmentation alone, 96x96, batch 256", 2, Steps(6), false),
    new("epoch:resnet18:16:64:128", "end-to-end epoch (loader+views+step), w16, batch 128", 5, Steps(30), false,
        Baseline: "step:resnet18:16:64:128:cl"),
    new("drift:resnet18:16:64:64:cl", "resident memory over 200 steps, w16, batch 64, channels-last", 20, quick ? 60 : 200, true),
};
if (Arg("--only") is { } only) rows = rows.Where(r => only.Split(',').Any(o => r.Row.StartsWith(o, StringComparison.Ordinal))).ToList();

var root = RepositoryRoot();
var python = Environment.GetEnvironmentVariable("AAVAE_PYTHON") ?? (File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
var driver = new Driver(python, Path.Combine(root, "bench", "pytorch_bench.py"), quick ? 1 : 3, threads, Console.Error);
Console.Error.WriteLine($"{threads} threads on each side (--threads)");

var results = new List<RowResult>();
foreach (var row in rows)
{
    Console.Error.WriteLine($"{row.Title}:");
    results.Add(driver.Measure(row));
}
Console.WriteLine();
Driver.PrintTable(results, Console.Out);
// bench/results.json is the README's table: only a full run of every row replaces it; --quick or --only write beside it unless --json says where.
bool full = !quick && Arg("--only") is null;
var json = Arg("--json") ?? Path.Combine(root, "bench", full ? "results.json" : "results.partial.json");
Driver.WriteJson(json, results);
Console.WriteLine($"\nwrote {json}");
return 0;

using Aavae.Bench;
using Aavae.Data;
using Aavae.Models;

// Usage: dotnet run -c Release --project bench/Aavae.Bench [-- --quick]
bool quick = args.Contains("--quick");
int steps = quick ? 3 : 10;

var rows = new List<StepResult>
{
    StepBenchmark.Run("resnet18+decoder18 w16", new ModelOptions { Encoder = "resnet18", Width = 16 }, 64, 2, steps),
    StepBenchmark.Run("resnet18+decoder18 w64", new ModelOptions { Encoder = "resnet18" }, 64, 1, quick ? 2 : 5),
};

Console.WriteLine($"{"pre-training step",-28} {"batch",6} {"steps",6} {"median s",10} {"images/s",10} {"RSS MB",8}");
foreach (var r in rows)
    Console.WriteLine($"{r.Name,-28} {r.Batch,6} {r.Steps,6} {r.MedianSeconds,10:F3} {r.ImagesPerSecond,10:F1} {r.PeakRssMb,8}");

var augmentation = new[]
{
    AugmentationBenchmark.Run(DatasetInfo.Cifar10, 256, quick ? 3 : 10),
    AugmentationBenchmark.Run(DatasetInfo.Stl10, 256, quick ? 2 : 5),
};
Console.WriteLine();
Console.WriteLine($"{"augmentation (SimCLR + original)",-34} {"batch",6} {"images/s",10}");
foreach (var a in augmentation)
    Console.WriteLine($"{a.Name,-34} {a.Batch,6} {a.ImagesPerSecond,10:F0}");

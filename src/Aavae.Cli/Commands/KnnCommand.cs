using System.CommandLine;
using System.Globalization;
using Aavae.Augmentation;
using Aavae.Evaluation;
using Aavae.Runtime;
using TorchSharp;

namespace Aavae.Cli.Commands;

/// <summary><c>aavae knn</c>: weighted k-nearest-neighbour accuracy of the test split against the training split's features.</summary>
internal static class KnnCommand
{
    public static Command Create()
    {
        var source = new CheckpointOptionSet();
        var k = CliOptions.Create("--k", "neighbours that vote", 200);
        var temperature = CliOptions.Create("--temperature", "votes are weighted by exp(cosine similarity / temperature)", 0.1);
        var limit = CliOptions.Create<int?>("--limit-batches", "encode at most N batches of each split", null);
        var command = new Command("knn", "k-nearest-neighbour accuracy of the frozen encoder's features on the test split");
        source.AddTo(command);
        foreach (var o in new Option[] { k, temperature, limit }) command.Options.Add(o);
        command.SetAction(r =>
        {
            TorchRuntime.EnsureLoaded();
            if (r.GetValue(limit) is < 1) throw new ArgumentException($"--limit-batches must be >= 1, got {r.GetValue(limit)}");
            if (r.GetValue(k) < 1) throw new ArgumentException($"--k must be >= 1, got {r.GetValue(k)}");
            if (r.GetValue(temperature) <= 0) throw new ArgumentException($"--temperature must be > 0, got {r.GetValue(temperature)}");
            var device = DeviceChoice.Resolve(r.GetValue(source.Device)!);
            var (weights, data) = source.Load(r);
            using (weights)
            using (data)
            {
                using var encoder = source.BuildEncoder(weights, device, r);
                var views = new Views(data.Info, device);
                int batch = r.GetValue(source.BatchSize);
                using var bank = FeatureExtractor.Encode(encoder, data.Train, views, batch, r.GetValue(limit));
                using var test = FeatureExtractor.Encode(encoder, data.Test, views, batch, r.GetValue(limit));
                double acc = Knn.Accuracy(bank, test, data.Info.NumClasses, r.GetValue(k), r.GetValue(temperature));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"k-NN (k={r.GetValue(k)}, T={r.GetValue(temperature)}) on {data.Info.Name}: top-1 test accuracy {100 * acc:F2}% ({bank.Count} training / {test.Count} test images)"));
            }
            return 0;
        });
        return command;
    }
}

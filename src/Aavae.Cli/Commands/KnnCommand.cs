using System.CommandLine;
using Aavae.Evaluation;
using Aavae.Jobs;
using Aavae.Runtime;

namespace Aavae.Cli.Commands;

/// <summary><c>aavae knn</c>: weighted k-nearest-neighbour accuracy of the test split against the training split's features.</summary>
internal static class KnnCommand
{
    public static Command Create()
    {
        var source = new SettingOptions(typeof(EncoderSource), required: s => s.Name == nameof(EncoderSource.Checkpoint));
        var settings = new SettingOptions(typeof(KnnOptions));
        var command = new Command("knn", "k-nearest-neighbour accuracy of the frozen encoder's features on the test split");
        source.AddTo(command);
        settings.AddTo(command);
        command.SetAction(r =>
        {
            TorchRuntime.EnsureLoaded();
            Console.WriteLine(KnnJob.Run(source.Apply(r, new EncoderSource()), settings.Apply(r, new KnnOptions()), new ConsoleObserver(), ConsoleObserver.Note));
            return 0;
        });
        return command;
    }
}

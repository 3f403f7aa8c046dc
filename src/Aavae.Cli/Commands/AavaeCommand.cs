using System.CommandLine;

namespace Aavae.Cli.Commands;

/// <summary>The <c>aavae</c> program's commands, in the order its help lists them.</summary>
internal static class AavaeCommand
{
    public static RootCommand Create()
    {
        var root = new RootCommand("AAVAE for .NET: augmentation-augmented variational autoencoders on TorchSharp");
        root.Subcommands.Add(SummaryCommand.Create());
        root.Subcommands.Add(ShowViewsCommand.Create());
        root.Subcommands.Add(DownloadCommand.Create());
        root.Subcommands.Add(PretrainCommand.Create());
        root.Subcommands.Add(LinearEvalCommand.Create());
        root.Subcommands.Add(KnnCommand.Create());
        root.Subcommands.Add(PlotCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        root.Subcommands.Add(EmbedCommand.Create());
        root.Subcommands.Add(NeighborsCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(DoctorCommand.Create());
        root.Subcommands.Add(KernelTrialCommand.Create());
        root.Subcommands.Add(DecodePicturesCommand.Create());
        root.Subcommands.Add(OptionsReferenceCommand.Create(root));
        return root;
    }
}

using System.CommandLine;
using Aavae.Data;

namespace Aavae.Cli.Commands;

/// <summary><c>aavae decode-pictures</c> (hidden): decodes the pictures named on standard input for a picture folder's cache (<see cref="ChildPictureDecoder"/>), so that a crashing decoder costs one file.</summary>
internal static class DecodePicturesCommand
{
    public static Command Create()
    {
        var command = new Command("decode-pictures", "Decode the pictures named on standard input (started by a picture folder's cache itself)") { Hidden = true };
        command.SetAction(_ =>
        {
            using var output = Console.OpenStandardOutput();
            ChildPictureDecoder.Serve(Console.In, output);
            return 0;
        });
        return command;
    }
}

using Aavae.Runtime;
using static TorchSharp.torch;

namespace Aavae.Diagnostics;

/// <summary>
/// Which oneDNN implementation runs a bf16 convolution on this CPU, as bf16-mixed training runs it
/// (channels-last, forward and both backward passes). oneDNN says so only in its verbose log, which
/// it reads from ONEDNN_VERBOSE once and prints on the native standard output: so the probe runs in a
/// child process started with that variable (<c>aavae doctor</c> starts itself), and
/// <see cref="Implementations"/> reads what the child printed.
/// </summary>
public static class OneDnnProbe
{
    public const string Variable = "ONEDNN_VERBOSE";

    /// <summary>The work of the child process: one bf16 3x3 convolution, forward and backward.</summary>
    public static void RunBf16Convolution()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var x = randn(8, 16, 8, 8).to(ScalarType.BFloat16);
        var input = ChannelsLast.Copy(x).requires_grad_();
        var weight = ChannelsLast.Copy(randn(16, 16, 3, 3).to(ScalarType.BFloat16)).requires_grad_();
        var y = nn.functional.conv2d(input, weight, padding: [1, 1]);
        y.sum().backward();
    }

    /// <summary>The implementation oneDNN named for each direction (forward, backward-data, backward-weights) in a verbose log.</summary>
    public static IReadOnlyDictionary<string, string> Implementations(string verbose)
    {
        var found = new Dictionary<string, string>();
        foreach (var line in verbose.Split('\n'))
        {
            if (!line.StartsWith("onednn_verbose", StringComparison.Ordinal) || !line.Contains(",exec,", StringComparison.Ordinal)) continue;
            var fields = line.Split(',');
            int at = Array.IndexOf(fields, "convolution");
            if (at < 0 || at + 2 >= fields.Length || !fields[(at + 2)..].Any(f => f.Contains("bf16", StringComparison.Ordinal))) continue;
            string direction = fields[at + 2] switch
            {
                var p when p.StartsWith("forward", StringComparison.Ordinal) => "forward",
                "backward_data" => "backward-data",
                "backward_weights" => "backward-weights",
                var other => other,
            };
            found.TryAdd(direction, fields[at + 1]);
        }
        return found;
    }
}

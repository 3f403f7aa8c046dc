namespace Aavae.Bench;

/// <summary>Resident memory of this process from /proc (Linux), in MB; 0 elsewhere.</summary>
public static class Memory
{
    public static double CurrentMb() => Read("VmRSS:");

    public static double PeakMb() => Read("VmHWM:");

    private static double Read(string field)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return 0;
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
    }
}

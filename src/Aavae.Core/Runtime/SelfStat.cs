using System.Globalization;

namespace Aavae.Runtime;

/// <summary>This process's line of /proc/self/stat, read by field number as proc(5) numbers them.</summary>
internal static class SelfStat
{
    /// <summary>The line's field <paramref name="number"/> (1-based, from 3: the state onwards) as a number.</summary>
    public static long Field(string line, int number)
    {
        // The command name (field 2) is in parentheses and may hold spaces: count from after its closing one.
        var fields = line[(line.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[number - 3], CultureInfo.InvariantCulture);
    }
}

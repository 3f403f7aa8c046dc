namespace Aavae.IO;

/// <summary>Text from a file, made fit for a one-line error message: control characters (NULs of a truncated picture, newlines) dropped, length capped.</summary>
public static class PrintableText
{
    public static string Of(string text, int max = 200)
    {
        var kept = string.Concat(text.ReplaceLineEndings(" ").Where(c => !char.IsControl(c))).Trim();
        return kept.Length <= max ? kept : kept[..max] + "...";
    }
}

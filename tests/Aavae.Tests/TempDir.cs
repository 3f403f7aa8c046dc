namespace Aavae.Tests;

/// <summary>A fresh folder under the system temp directory for one test's files.</summary>
public static class TempDir
{
    public static string Create()
    {
        var dir = Path.Combine(Path.GetTempPath(), "aavae-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}

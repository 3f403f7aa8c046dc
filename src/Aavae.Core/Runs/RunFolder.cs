using Aavae.Configuration;

namespace Aavae.Runs;

/// <summary>
/// The files of one run: <c>config.json</c>, <c>metrics.csv</c>, TensorBoard events,
/// reconstruction grids and checkpoints (<c>last.ckpt</c> and <c>epoch=N.ckpt</c>).
/// </summary>
public sealed record RunFolder(string Path)
{
    public string Config => System.IO.Path.Combine(Path, "config.json");

    /// <summary>A picture folder's files that were left out, with why: path, a tab, the reason, a line each.</summary>
    public string SkippedPictures => System.IO.Path.Combine(Path, "skipped.txt");
    public string Metrics => System.IO.Path.Combine(Path, "metrics.csv");
    public string TensorBoard => System.IO.Path.Combine(Path, "tensorboard");
    public string Reconstructions => System.IO.Path.Combine(Path, "reconstructions");
    public string Checkpoints => System.IO.Path.Combine(Path, "checkpoints");
    public string LastCheckpoint => System.IO.Path.Combine(Checkpoints, "last.ckpt");

    public string EpochCheckpoint(int epoch) => System.IO.Path.Combine(Checkpoints, $"epoch={epoch:D4}.ckpt");

    public string ReconstructionPng(int epoch) => System.IO.Path.Combine(Reconstructions, $"epoch={epoch:D4}.png");

    public bool HoldsRun => File.Exists(Config) || Directory.Exists(Checkpoints);

    /// <summary>
    /// A folder for a new run. A folder that holds another run is refused unless
    /// <paramref name="overwrite"/>, in which case that run's files are removed. Nothing is
    /// created here: the trainer creates the folders once its set-up has succeeded.
    /// </summary>
    public static RunFolder CreateNew(string path, bool overwrite)
    {
        var run = new RunFolder(path);
        if (run.HoldsRun)
        {
            if (!overwrite)
                throw new OptionException("Output", $"{path} already holds a run; continue it (resume) or replace it (overwrite)");
            // Never under a live run's feet.
            using (RunLock.Acquire(path)) run.Clear();
        }
        return run;
    }

    /// <summary>The next free <c>root/name-N</c> folder, as Lightning's version_N.</summary>
    public static string NextFree(string root, string name)
    {
        for (int i = 0; ; i++)
        {
            var candidate = System.IO.Path.Combine(root, $"{name}-{i}");
            if (!Directory.Exists(candidate)) return candidate;
        }
    }

    /// <summary>A run folder (its last checkpoint) or a checkpoint file.</summary>
    public static string ResolveCheckpoint(string runOrCheckpoint)
    {
        if (File.Exists(runOrCheckpoint)) return runOrCheckpoint;
        if (Directory.Exists(runOrCheckpoint))
        {
            var last = new RunFolder(runOrCheckpoint).LastCheckpoint;
            return File.Exists(last) ? last : throw new FileNotFoundException($"{runOrCheckpoint}: no checkpoints/last.ckpt in that folder");
        }
        throw new FileNotFoundException($"{runOrCheckpoint}: no such run folder or checkpoint");
    }

    /// <summary>The run folder a checkpoint belongs to: the parent of its <c>checkpoints/</c> folder, else the folder it sits in.</summary>
    public static string Containing(string checkpoint)
    {
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(checkpoint))!;
        return System.IO.Path.GetFileName(dir) == "checkpoints" ? System.IO.Path.GetDirectoryName(dir)! : dir;
    }

    /// <summary>Where linear evaluation of this run's encoder writes its result for a feature mode (augmented, cached, unshuffled).</summary>
    /// <param name="testRead">False: a validation-only result, kept apart so that it never takes the place of (or blocks) the result that reads the test split.</param>
    public string LinearEvalResult(string mode, bool testRead = true) => System.IO.Path.Combine(Path, $"linear_eval_{mode}{(testRead ? "" : "_val")}.json");

    public void CreateFolders()
    {
        foreach (var dir in new[] { Path, TensorBoard, Reconstructions, Checkpoints }) Directory.CreateDirectory(dir);
    }

    private void Clear()
    {
        foreach (var file in new[] { Config, Metrics }) if (File.Exists(file)) File.Delete(file);
        foreach (var result in Directory.EnumerateFiles(Path, "linear_eval_*.json")) File.Delete(result);
        foreach (var dir in new[] { TensorBoard, Reconstructions, Checkpoints }) if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }
}

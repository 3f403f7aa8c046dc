using System.Diagnostics;
using System.Text;
using Aavae.Embedding;
using Aavae.Kernels;

namespace Aavae.Data;

/// <summary>A picture decoded to RGB bytes, or why it could not be.</summary>
public sealed record DecodedPicture(int Width, int Height, byte[]? Rgb, string? Problem);

/// <summary>Decodes the pictures of a folder, one file at a time; a file it cannot decode is a problem of that file, never the end of the pass.</summary>
public interface IPictureDecoder : IDisposable
{
    DecodedPicture Decode(string path);
}

/// <summary>Decodes in this process: a decoder that crashes on a crafted file ends the process with it.</summary>
public sealed class InProcessPictureDecoder : IPictureDecoder
{
    public DecodedPicture Decode(string path)
    {
        try
        {
            var (width, height, rgb) = PictureFile.DecodeRgb(path);
            return new DecodedPicture(width, height, rgb, null);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return new DecodedPicture(0, 0, null, Reason(e, path));
        }
    }

    /// <summary>The refusal without the path in front: the caller names the file.</summary>
    internal static string Reason(Exception e, string path) =>
        e.Message.StartsWith(path + ": ", StringComparison.Ordinal) ? e.Message[(path.Length + 2)..] : e.Message;

    public void Dispose() { }
}

/// <summary>
/// Decodes in a child process (<c>aavae decode-pictures</c>), so that a native decoder that crashes
/// or hangs on a crafted file costs that file, not the run: the file is skipped with the reason,
/// and a new child decodes the rest. Protocol: a path a line in; per path, <c>ok W H</c> and W x H x 3
/// bytes, or <c>skip REASON</c>, out.
/// </summary>
public sealed class ChildPictureDecoder(TrialHost host) : IPictureDecoder
{
    /// <summary>How long one picture may take before its decoder is called hung.</summary>
    public static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(60);

    private Process? child;
    private string? lastError;
    // A program that cannot be started, or that dies again and again before it has answered once, leaves the
    // decoding to this process. One that has answered keeps being restarted: a run of crafted files must cost
    // those files, never the run.
    private InProcessPictureDecoder? fallback;
    private bool answered;
    private int crashesInARow;

    public DecodedPicture Decode(string path)
    {
        if (fallback is not null) return fallback.Decode(path);
        try
        {
            child ??= Start();
        }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            // A program that once ran and now cannot start costs this file; one that never ran leaves the decoding here.
            if (answered) return new DecodedPicture(0, 0, null, $"the decoder could not be started: {e.Message}");
            fallback = new InProcessPictureDecoder();
            return fallback.Decode(path);
        }
        try
        {
            child.StandardInput.WriteLine(path);
            child.StandardInput.Flush();
            var reply = Task.Run(() => Read(child.StandardOutput.BaseStream));
            if (!reply.Wait(TimeLimit))
            {
                Stop();
                return new DecodedPicture(0, 0, null, $"the decoder took more than {TimeLimit.TotalSeconds:0} s on it (stopped)");
            }
            crashesInARow = 0;
            answered = true;
            return reply.Result;
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or AggregateException or InvalidOperationException)
        {
            int? code = child is { HasExited: true } ? child.ExitCode : null;
            var said = lastError;
            Stop();
            // Ten crashes before any answer: the program itself may not run here, or the folder may open
            // with ten crafted files. A picture known to be good tells which.
            if (++crashesInARow >= 10 && !answered && !DecodesAGoodPicture()) fallback = new InProcessPictureDecoder();
            return new DecodedPicture(0, 0, null, $"the decoder crashed on it{(code is int c ? $" (exit {c})" : "")}{(said is null ? "" : $": {said}")}");
        }
    }

    /// <summary>Whether a fresh child decodes a one-pixel PNG; it answers, so it counts as having answered.</summary>
    private bool DecodesAGoodPicture()
    {
        var probe = Path.Combine(Path.GetTempPath(), $"aavae-probe-{Environment.ProcessId}-{Guid.NewGuid():N}.png");
        try
        {
            new Aavae.Embedding.Pixels(1, 1, 1, [128]).SavePng(probe);
            child = Start();
            child.StandardInput.WriteLine(probe);
            child.StandardInput.Flush();
            var reply = Task.Run(() => Read(child.StandardOutput.BaseStream));
            if (!reply.Wait(TimeLimit) || reply.Result.Rgb is null)
            {
                Stop();
                return false;
            }
            answered = true;
            crashesInARow = 0;
            return true;
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or AggregateException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            Stop();
            return false;
        }
        finally
        {
            File.Delete(probe);
        }
    }

    private Process Start()
    {
        var process = Process.Start(host.For("decode-pictures").StartInfo()) ?? throw new IOException($"cannot start {host.FileName} to decode pictures");
        // Read, or a chatty child would fill the pipe and block; its last line says why it died.
        lastError = null;
        process.ErrorDataReceived += (_, e) => { if (!string.IsNullOrWhiteSpace(e.Data)) lastError = e.Data.Trim(); };
        process.BeginErrorReadLine();
        return process;
    }

    private static DecodedPicture Read(Stream output)
    {
        var line = ReadLine(output) ?? throw new EndOfStreamException();
        if (line.StartsWith("skip ", StringComparison.Ordinal)) return new DecodedPicture(0, 0, null, line[5..]);
        var parts = line.Split(' ');
        if (parts is not ["ok", var w, var h] || !int.TryParse(w, out int width) || !int.TryParse(h, out int height)
            || width < 1 || height < 1 || (long)width * height > PictureFile.MaxPixels)
            throw new InvalidOperationException($"the decoder said '{line}'");
        var rgb = new byte[(long)width * height * 3];
        output.ReadExactly(rgb);
        return new DecodedPicture(width, height, rgb, null);
    }

    private static string? ReadLine(Stream s)
    {
        var bytes = new List<byte>();
        while (true)
        {
            int b = s.ReadByte();
            if (b < 0) return null;
            if (b == '\n') return Encoding.UTF8.GetString(bytes.ToArray());
            bytes.Add((byte)b);
            if (bytes.Count > 64 << 10) throw new InvalidOperationException("the decoder's reply line has no end");
        }
    }

    private void Stop()
    {
        try
        {
            if (child is { HasExited: false }) child.Kill();
        }
        catch (InvalidOperationException)
        {
        }
        child?.Dispose();
        child = null;
    }

    public void Dispose()
    {
        if (child is { HasExited: false })
        {
            try
            {
                child.StandardInput.Close();
                if (!child.WaitForExit(TimeSpan.FromSeconds(5))) child.Kill();
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
            }
        }
        child?.Dispose();
        child = null;
    }

    /// <summary>The child's side: decodes each path read from <paramref name="input"/> and answers on <paramref name="output"/> until the input ends.</summary>
    public static void Serve(TextReader input, Stream output)
    {
        using var decoder = new InProcessPictureDecoder();
        while (input.ReadLine() is { } path)
        {
            var picture = decoder.Decode(path);
            var header = picture.Rgb is null ? $"skip {picture.Problem!.ReplaceLineEndings(" ")}\n" : $"ok {picture.Width} {picture.Height}\n";
            output.Write(Encoding.UTF8.GetBytes(header));
            if (picture.Rgb is not null) output.Write(picture.Rgb);
            output.Flush();
        }
    }

    /// <summary>The child decoder when the <c>aavae</c> program can be found (<see cref="TrialHost.Discover"/>), else this process's.</summary>
    public static IPictureDecoder Best() => TrialHost.Discover() is { } host ? new ChildPictureDecoder(host) : new InProcessPictureDecoder();
}

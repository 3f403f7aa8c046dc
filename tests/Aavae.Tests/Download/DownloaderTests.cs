using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Aavae.Download;

namespace Aavae.Tests.Download;

/// <summary>Against a real HTTP server on 127.0.0.1 that honours Range requests.</summary>
public sealed class DownloaderTests : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly byte[] payload = RandomNumberGenerator.GetBytes(300_000);
    private readonly List<string?> ranges = [];
    private readonly string prefix;
    private readonly Task serving;
    private int failAfter = -1; // when >= 0, the next response stops after this many bytes

    public DownloaderTests()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        prefix = $"http://127.0.0.1:{port}/";
        listener.Prefixes.Add(prefix);
        listener.Start();
        serving = Task.Run(Serve);
    }

    private async Task Serve()
    {
        while (listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await listener.GetContextAsync(); } catch { return; }
            var range = ctx.Request.Headers["Range"];
            lock (ranges) ranges.Add(range);
            long start = range is null ? 0 : long.Parse(range["bytes=".Length..].TrimEnd('-'));
            ctx.Response.StatusCode = range is null ? 200 : 206;
            var body = payload.AsMemory((int)start);
            if (failAfter >= 0)
            {
                body = body[..failAfter];
                failAfter = -1;
                ctx.Response.ContentLength64 = payload.Length - start; // promise more than is sent
                try { await ctx.Response.OutputStream.WriteAsync(body); ctx.Response.Abort(); } catch { }
                continue;
            }
            ctx.Response.ContentLength64 = body.Length;
            await ctx.Response.OutputStream.WriteAsync(body);
            ctx.Response.Close();
        }
    }

    private RemoteFile File(string md5) => new(new Uri(prefix + "archive.tar.gz"), "archive.tar.gz", md5);

    private string Md5 => Convert.ToHexStringLower(MD5.HashData(payload));

    [Fact]
    public async Task DownloadsVerifiesAndReportsProgress()
    {
        var dir = TempDir.Create();
        var reports = new List<DownloadProgress>();
        using var http = new HttpClient();
        var path = await new Downloader(http).FetchAsync(File(Md5), dir, new SyncProgress(reports.Add));
        Assert.Equal(payload, System.IO.File.ReadAllBytes(path));
        Assert.False(System.IO.File.Exists(path + ".part"));
        Assert.Equal(payload.Length, reports[^1].Done);
        Assert.Equal(payload.Length, reports[^1].Total);
    }

    [Fact]
    public async Task ResumesAnInterruptedDownloadWithARangeRequest()
    {
        var dir = TempDir.Create();
        using var http = new HttpClient();
        failAfter = 100_000;
        await Assert.ThrowsAnyAsync<Exception>(() => new Downloader(http).FetchAsync(File(Md5), dir));
        var part = Path.Combine(dir, "archive.tar.gz.part");
        Assert.True(System.IO.File.Exists(part));
        Assert.False(System.IO.File.Exists(Path.Combine(dir, "archive.tar.gz")));
        long partial = new FileInfo(part).Length;
        Assert.InRange(partial, 1, payload.Length - 1);

        var path = await new Downloader(http).FetchAsync(File(Md5), dir);
        Assert.Equal(payload, System.IO.File.ReadAllBytes(path));
        Assert.Equal($"bytes={partial}-", ranges[^1]);
    }

    [Fact]
    public async Task WrongChecksumLeavesNoFileUnderTheFinalName()
    {
        var dir = TempDir.Create();
        using var http = new HttpClient();
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => new Downloader(http).FetchAsync(File(new string('0', 32)), dir));
        Assert.Contains("MD5", e.Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    public void Dispose()
    {
        listener.Stop();
        listener.Close();
        try { serving.Wait(1000); } catch { }
    }

    private sealed class SyncProgress(Action<DownloadProgress> report) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => report(value);
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Aavae.Download;

/// <summary>A file to fetch: where from, what to call it, and its published MD5.</summary>
/// <param name="UnpackTo">The folder the archive is unpacked to after the download; null: read from the archive itself.</param>
public sealed record RemoteFile(Uri Url, string FileName, string Md5, string? UnpackTo = null);

/// <summary>Bytes done and total (null when the server does not say).</summary>
public readonly record struct DownloadProgress(long Done, long? Total);

/// <summary>
/// Resumable download: bytes go to <c>NAME.part</c>, a second run continues it with an HTTP Range
/// request, and only a file whose MD5 matches is renamed to its final name.
/// </summary>
public sealed class Downloader(HttpClient http)
{
    public async Task<string> FetchAsync(RemoteFile file, string directory, IProgress<DownloadProgress>? progress = null, CancellationToken ct = default)
    {
        Directory.CreateDirectory(directory);
        var final = Path.Combine(directory, file.FileName);
        if (File.Exists(final))
        {
            if (Md5Of(final) == file.Md5) return final;
            throw new InvalidDataException($"{final}: exists but its MD5 is not the published {file.Md5}; delete it to download again");
        }
        var part = final + ".part";
        long have = File.Exists(part) ? new FileInfo(part).Length : 0;

        using var request = new HttpRequestMessage(HttpMethod.Get, file.Url);
        if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable) have = -1; // .part already complete or bigger
        else if (!response.IsSuccessStatusCode)
            throw new IOException($"{file.Url}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");

        if (have >= 0)
        {
            bool resumed = have > 0 && response.StatusCode == HttpStatusCode.PartialContent;
            if (!resumed) have = 0; // the server ignored the range: start over
            long? total = response.Content.Headers.ContentLength is long len ? len + have : null;
            await using var source = await response.Content.ReadAsStreamAsync(ct);
            await using var target = new FileStream(part, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write);
            var buffer = new byte[1 << 16];
            long done = have;
            int read;
            while ((read = await source.ReadAsync(buffer, ct)) > 0)
            {
                await target.WriteAsync(buffer.AsMemory(0, read), ct);
                done += read;
                progress?.Report(new DownloadProgress(done, total));
            }
        }

        var md5 = Md5Of(part);
        if (md5 != file.Md5)
        {
            File.Delete(part);
            throw new InvalidDataException($"{file.FileName}: MD5 {md5} does not match the published {file.Md5}; the partial file was removed, run again");
        }
        File.Move(part, final);
        return final;
    }

    public static string Md5Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(MD5.HashData(stream));
    }
}

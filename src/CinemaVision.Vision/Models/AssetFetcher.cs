using System.Security.Cryptography;
using CinemaVision.Vision.Assets;

namespace CinemaVision.Vision.Models;

/// <summary>
/// Copies assets from a mirror folder (or downloads them from their upstream URL) into the cache and verifies
/// their sha256. A file is published into the cache only after its hash matched, so the cache never holds a
/// truncated or corrupt copy.
/// </summary>
public sealed class AssetFetcher
{
    private readonly HttpClient _http;
    private readonly string _cacheRoot;
    private readonly string? _mirrorRoot;

    public AssetFetcher(HttpClient http, string cacheRoot, string? mirrorRoot)
    {
        _http = http;
        _cacheRoot = cacheRoot;
        _mirrorRoot = mirrorRoot;
    }

    public static AssetFetcher CreateDefault(HttpClient http, string? mirror = null) =>
        new(http, AssetLocator.CacheRoot, mirror ?? AssetLocator.MirrorRoot);

    public sealed record Result(string Name, string File, string Path, string Source, bool AlreadyCached);

    public async Task<Result> FetchAsync(string name, string relativeFile, string sha256, string? url, CancellationToken ct)
    {
        var target = Path.Combine(_cacheRoot, relativeFile);
        if (File.Exists(target) && string.Equals(await HashAsync(target, ct).ConfigureAwait(false), sha256, StringComparison.OrdinalIgnoreCase))
        {
            return new Result(name, relativeFile, target, "cache", true);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var partial = target + ".partial";
        string source;
        try
        {
            var mirrored = _mirrorRoot is null ? null : Path.Combine(_mirrorRoot, relativeFile);
            if (mirrored is not null && File.Exists(mirrored))
            {
                source = mirrored;
                await using var input = File.OpenRead(mirrored);
                await using var output = File.Create(partial);
                await input.CopyToAsync(output, ct).ConfigureAwait(false);
            }
            else if (url is not null)
            {
                source = url;
                using var response = await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    throw new ModelAssetException(name, $"download of {url} failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
                }

                await using var input = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
                await using var output = File.Create(partial);
                await input.CopyToAsync(output, ct).ConfigureAwait(false);
            }
            else
            {
                throw new ModelAssetException(name, $"'{relativeFile}' has no upstream URL and is not in a mirror folder; set {AssetLocator.MirrorVariable}");
            }

            var actual = await HashAsync(partial, ct).ConfigureAwait(false);
            if (!string.Equals(actual, sha256, StringComparison.OrdinalIgnoreCase))
            {
                var length = new FileInfo(partial).Length;
                throw new ModelAssetException(name, $"sha256 mismatch for {source} ({length} bytes): expected {sha256}, got {actual} (truncated or wrong file)");
            }

            File.Move(partial, target, overwrite: true);
            return new Result(name, relativeFile, target, source, false);
        }
        catch (HttpRequestException ex)
        {
            throw new ModelAssetException(name, $"download of {url} failed: {ex.Message}", ex);
        }
        finally
        {
            if (File.Exists(partial)) File.Delete(partial);
        }
    }

    /// <summary>Checks a file against its expected sha256 (used by <c>cvtools models verify</c> and before loading).</summary>
    public static async Task<string> HashAsync(string path, CancellationToken ct)
    {
        await using var stream = File.OpenRead(path);
        var hash = await SHA256.HashDataAsync(stream, ct).ConfigureAwait(false);
        return Convert.ToHexStringLower(hash);
    }
}

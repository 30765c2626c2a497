using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using CinemaVision.Core.Events;
using CinemaVision.Edge.Configuration;

namespace CinemaVision.Edge.Upload;

/// <summary>The centre refused a request in a way retrying will not fix (bad key, revoked agent).</summary>
public sealed class CentreException(string message) : Exception(message)
{
    public CentreException()
        : this("the centre refused the request")
    {
    }

    public CentreException(string message, Exception inner)
        : this(message + ": " + inner.Message)
    {
    }
}

/// <summary>What the centre answered to one request: its status, when to try again, the problem it named, and (batches) its receipt.</summary>
public sealed record CentreAnswer(HttpStatusCode Status, TimeSpan? RetryAfter, string? Problem, IngestResult? Receipt = null)
{
    public bool IsSuccess => (int)Status is >= 200 and < 300;
}

/// <summary>A GET answer with its ETag (304 carries no body).</summary>
public sealed record ETagAnswer(HttpStatusCode Status, string? ETag, string? Body);

/// <summary>
/// The agent's side of the centre's API: the pulled configuration and schedule (ETag, 304), evidence upload
/// (idempotent PUT by id) and batch upload. Authenticates with the agent's key; never logs it.
/// </summary>
public sealed partial class CentreClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly ILogger? _logger;

    public CentreClient(AgentOptions options, HttpMessageHandler? handler = null, ILogger<CentreClient>? logger = null)
    {
        _logger = logger;
        var sockets = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = TimeSpan.FromSeconds(5) };
        if (options.CentralCertificateSha256 is { } pin)
        {
            // Pinned: the centre's own (often self-signed) certificate is trusted by its fingerprint alone, and nothing else is.
            sockets.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, certificate, _, _) => Pinned(certificate, pin) };
        }

        _http = new HttpClient(handler ?? sockets)
        {
            BaseAddress = options.CentralUrl,
            Timeout = TimeSpan.FromSeconds(30),
        };
        _http.DefaultRequestHeaders.Add("X-Api-Key", options.ApiKey);
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("CinemaVision-Edge", typeof(CentreClient).Assembly.GetName().Version?.ToString() ?? "1"));
    }

    /// <summary>The pinned certificate and nothing else: its SHA-256 (of the DER bytes) equals the configured fingerprint.</summary>
    public static bool IsPinned(X509Certificate? certificate, string sha256) =>
        certificate is not null && string.Equals(Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData())), sha256.Replace(":", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);

    public async Task<ETagAnswer> GetWithETagAsync(string path, string? etag, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        if (etag is not null) request.Headers.IfNoneMatch.Add(EntityTagHeaderValue.Parse(etag));
        using var response = await _http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotModified) return new ETagAnswer(HttpStatusCode.NotModified, etag, null);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw new CentreException($"{path}: HTTP {(int)response.StatusCode} (the agent key is wrong or revoked): {await ProblemAsync(response, cancellationToken)}");
        }

        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"{path}: HTTP {(int)response.StatusCode} {await ProblemAsync(response, cancellationToken)}");
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return new ETagAnswer(response.StatusCode, response.Headers.ETag?.ToString(), body);
    }

    /// <summary>True when the presented certificate's SHA-256 (of its DER bytes) is the pinned one; logs a refusal clearly.</summary>
    private bool Pinned(X509Certificate? certificate, string pin)
    {
        if (certificate is null)
        {
            if (_logger is not null) LogPinRefused(_logger, "none", pin);
            return false;
        }

        var actual = Convert.ToHexStringLower(SHA256.HashData(certificate.GetRawCertData()));
        if (string.Equals(actual, pin, StringComparison.OrdinalIgnoreCase)) return true;
        if (_logger is not null) LogPinRefused(_logger, actual, pin);
        return false;
    }

    /// <summary>GET a file to <paramref name="target"/>; returns its SHA-256 (lower-case hex). Non-2xx throws.</summary>
    public async Task<string> DownloadAsync(string path, string target, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(new Uri(path, UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"{path}: HTTP {(int)response.StatusCode} {await ProblemAsync(response, cancellationToken)}");
        await using (var file = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            await response.Content.CopyToAsync(file, cancellationToken);
            await file.FlushAsync(cancellationToken);
            file.Flush(flushToDisk: true);
        }

        await using var read = File.OpenRead(target);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(read, cancellationToken));
    }

    /// <summary>GET bytes with an ETag (304 gives null bytes); 404 gives <see cref="HttpStatusCode.NotFound"/> and no bytes.</summary>
    public async Task<(HttpStatusCode Status, string? ETag, byte[]? Bytes)> GetBytesAsync(string path, string? etag, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        if (etag is not null && EntityTagHeaderValue.TryParse(etag, out var tag)) request.Headers.IfNoneMatch.Add(tag);
        using var response = await _http.SendAsync(request, cancellationToken);
        if (response.StatusCode is HttpStatusCode.NotModified or HttpStatusCode.NotFound) return (response.StatusCode, etag, null);
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"{path}: HTTP {(int)response.StatusCode} {await ProblemAsync(response, cancellationToken)}");
        return (response.StatusCode, response.Headers.ETag?.ToString(), await response.Content.ReadAsByteArrayAsync(cancellationToken));
    }

    /// <summary>POST a JSON body (wire-contract options); the answer as status and problem.</summary>
    public async Task<CentreAnswer> PostJsonAsync<T>(string path, T body, CancellationToken cancellationToken)
    {
        using var content = new StringContent(JsonSerializer.Serialize(body, IngestJson.Options), Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync(new Uri(path, UriKind.Relative), content, cancellationToken);
        return await AnswerAsync(response, cancellationToken);
    }

    /// <summary>A kept frame: multipart <c>meta</c> (JSON) and <c>image</c> (JPEG).</summary>
    public async Task<CentreAnswer> PostFrameAsync(string metaJson, byte[] jpeg, CancellationToken cancellationToken)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent(metaJson, Encoding.UTF8, "application/json"), "meta");
        var image = new ByteArrayContent(jpeg);
        image.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(image, "image", "frame.jpg");
        using var response = await _http.PostAsync(new Uri("/api/v1/agent/frames", UriKind.Relative), form, cancellationToken);
        return await AnswerAsync(response, cancellationToken);
    }

    /// <summary>PUT a JPEG body (empty-hall references).</summary>
    public async Task<CentreAnswer> PutJpegAsync(string path, byte[] jpeg, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(jpeg);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        using var response = await _http.PutAsync(new Uri(path, UriKind.Relative), content, cancellationToken);
        return await AnswerAsync(response, cancellationToken);
    }

    public async Task<CentreAnswer> PutEvidenceAsync(string id, byte[] jpeg, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(jpeg);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        using var response = await _http.PutAsync(new Uri($"/api/v1/evidence/{Uri.EscapeDataString(id)}", UriKind.Relative), content, cancellationToken);
        return await AnswerAsync(response, cancellationToken);
    }

    public async Task<CentreAnswer> PostBatchAsync(IngestBatch batch, CancellationToken cancellationToken)
    {
        using var content = new StringContent(JsonSerializer.Serialize(batch, IngestJson.Options), Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync(new Uri("/api/v1/ingest/batches", UriKind.Relative), content, cancellationToken);
        var answer = await AnswerAsync(response, cancellationToken);
        if (!answer.IsSuccess) return answer;

        // The receipt: a 2xx counts only with the centre's account of this batch (see IngestResult.Acknowledges).
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            return answer with { Receipt = body.Length == 0 ? null : JsonSerializer.Deserialize<IngestResult>(body, IngestJson.Options) };
        }
        catch (JsonException)
        {
            return answer with { Problem = body.Length > 300 ? body[..300] : body };
        }
    }

    private static async Task<CentreAnswer> AnswerAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        TimeSpan? retryAfter = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => null,
        };
        return new CentreAnswer(response.StatusCode, retryAfter, response.IsSuccessStatusCode ? null : await ProblemAsync(response, cancellationToken));
    }

    private static async Task<string> ProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String) return detail.GetString()!;
        }
        catch (JsonException)
        {
        }

        return text.Length > 300 ? text[..300] : text;
    }

    public void Dispose() => _http.Dispose();

    [LoggerMessage(EventId = 6101, Level = LogLevel.Error, Message = "The centre's TLS certificate was refused: its SHA-256 is {Actual}, the pinned centralCertificateSha256 is {Pinned}. Nothing is sent to a centre that is not the pinned one; check DATA/tls/certificate.sha256 at the centre")]
    private static partial void LogPinRefused(ILogger logger, string actual, string pinned);
}

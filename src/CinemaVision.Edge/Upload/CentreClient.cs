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

/// <summary>What the centre answered to one request: its status, when to try again, and the problem it named.</summary>
public sealed record CentreAnswer(HttpStatusCode Status, TimeSpan? RetryAfter, string? Problem)
{
    public bool IsSuccess => (int)Status is >= 200 and < 300;
}

/// <summary>A GET answer with its ETag (304 carries no body).</summary>
public sealed record ETagAnswer(HttpStatusCode Status, string? ETag, string? Body);

/// <summary>
/// The agent's side of the centre's API: the pulled configuration and schedule (ETag, 304), evidence upload
/// (idempotent PUT by id) and batch upload. Authenticates with the agent's key; never logs it.
/// </summary>
public sealed class CentreClient : IDisposable
{
    private readonly HttpClient _http;

    public CentreClient(AgentOptions options, HttpMessageHandler? handler = null)
    {
        _http = new HttpClient(handler ?? new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            SslOptions = options.CentralCertificateSha256 is { } pin ? new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, certificate, _, _) => Pinned(certificate, pin) } : new SslClientAuthenticationOptions(),
        })
        {
            BaseAddress = options.CentralUrl,
            Timeout = TimeSpan.FromSeconds(30),
        };
        _http.DefaultRequestHeaders.Add("X-Api-Key", options.ApiKey);
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("CinemaVision-Edge", typeof(CentreClient).Assembly.GetName().Version?.ToString() ?? "1"));
    }

    /// <summary>The pinned certificate and nothing else: its SHA-256 (of the DER bytes) equals the configured fingerprint.</summary>
    public static bool Pinned(X509Certificate? certificate, string sha256) =>
        certificate is not null && string.Equals(Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData())), sha256, StringComparison.Ordinal);

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
        return await AnswerAsync(response, cancellationToken);
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
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CinemaVision.Core.Collection;
using CinemaVision.Core.Models;
using OpenCvSharp;

namespace CinemaVision.Tools.Export;

/// <summary>
/// The central service as the data team's tools use it: sign in as a person (cookie), list and fetch collected
/// frames, upload model versions. Errors carry the service's problem details.
/// </summary>
public sealed class CentreClient(HttpClient http)
{
    public static JsonSerializerOptions Json { get; } = CreateJson();

    /// <summary>A client for a centre URL that keeps the sign-in cookie.</summary>
    public static CentreClient Create(string baseUrl) =>
        new(new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromMinutes(5) });

    public HttpClient Http => http;

    public async Task SignInAsync(string user, string password, CancellationToken ct = default)
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = user, ["password"] = password, ["returnUrl"] = "/" });
        using var response = await http.PostAsync(new Uri("/login", UriKind.Relative), form, ct).ConfigureAwait(false);
        var location = response.Headers.Location?.ToString() ?? "";
        if (response.StatusCode != HttpStatusCode.Redirect || location.Contains("failed=true", StringComparison.Ordinal))
        {
            throw new UnauthorizedAccessException($"Signing in to {http.BaseAddress} as '{user}' failed (wrong user name or password).");
        }
    }

    public async Task<IReadOnlyList<CollectedFrameInfo>> ListFramesAsync(FrameSelection s, CancellationToken ct = default)
    {
        var query = new List<string>();
        void Add(string key, string? value)
        {
            if (!string.IsNullOrEmpty(value)) query.Add($"{key}={Uri.EscapeDataString(value)}");
        }

        Add("siteId", s.SiteId);
        Add("auditoriumId", s.AuditoriumId);
        Add("from", s.Since?.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        Add("to", s.Until?.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        Add("reason", s.Reason);
        Add("eventKind", s.EventKind);
        Add("minUncertainty", s.MinUncertainty?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("limit", s.Limit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await http.GetAsync(new Uri("/api/v1/frames?" + string.Join("&", query), UriKind.Relative), ct).ConfigureAwait(false);
        await EnsureAsync(response, "listing collected frames", ct).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<List<CollectedFrameInfo>>(Json, ct).ConfigureAwait(false) ?? [];
    }

    public async Task<byte[]> GetFrameAsync(string id, CancellationToken ct = default)
    {
        using var response = await http.GetAsync(new Uri($"/api/v1/frames/{Uri.EscapeDataString(id)}", UriKind.Relative), ct).ConfigureAwait(false);
        await EnsureAsync(response, $"fetching frame {id}", ct).ConfigureAwait(false);
        return await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Uploads a model version (manifest entry, card, ONNX file); returns the centre's sha256.</summary>
    public async Task<string> UploadModelAsync(string manifestJson, ModelCard card, string onnxPath, CancellationToken ct = default)
    {
        await using var stream = File.OpenRead(onnxPath);
        using var file = new StreamContent(stream);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var form = new MultipartFormDataContent
        {
            { new StringContent(manifestJson), "manifest" },
            { new StringContent(JsonSerializer.Serialize(card, Json)), "card" },
            { file, "file", Path.GetFileName(onnxPath) },
        };
        using var response = await http.PostAsync(new Uri("/api/v1/models", UriKind.Relative), form, ct).ConfigureAwait(false);
        await EnsureAsync(response, "uploading the model", ct).ConfigureAwait(false);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
        return doc.RootElement.GetProperty("sha256").GetString()!;
    }

    private static async Task EnsureAsync(HttpResponseMessage response, string what, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        string detail = body;
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("detail", out var d)) detail = d.GetString() ?? body;
        }
        catch (JsonException)
        {
        }

        throw new HttpRequestException($"The centre refused {what}: {(int)response.StatusCode} {response.StatusCode}{(detail.Length > 0 ? ": " + detail : "")}", null, response.StatusCode);
    }

    private static JsonSerializerOptions CreateJson()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        o.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        return o;
    }
}

/// <summary>Which collected frames to export: site, auditorium, time range, reason or event kind, uncertainty.</summary>
public sealed record FrameSelection(string? SiteId, string? AuditoriumId, DateTimeOffset? Since, DateTimeOffset? Until, string? Reason, string? EventKind, double? MinUncertainty, int Limit = 1000);

/// <summary>Frames collected at the centre, selected and fetched one by one.</summary>
public sealed class CentreExportSource(CentreClient centre, FrameSelection selection) : IExportSource
{
    public string Describe() => $"centre {centre.Http.BaseAddress} ({selection.SiteId ?? "all sites"}/{selection.AuditoriumId ?? "all auditoriums"})";

    public IEnumerable<ExportFrame> Frames(CancellationToken cancellationToken)
    {
        var frames = centre.ListFramesAsync(selection, cancellationToken).GetAwaiter().GetResult();
        foreach (var f in frames)
        {
            var bytes = centre.GetFrameAsync(f.Meta.Id, cancellationToken).GetAwaiter().GetResult();
            using var image = Cv2.ImDecode(bytes, ImreadModes.Color);
            if (image.Empty()) throw new InvalidDataException($"Frame {f.Meta.Id} from the centre is not a readable image.");
            var m = f.Meta;
            yield return new ExportFrame(image, m.Id + ".jpg", new ExportProvenance($"centre:{m.Id}", null, m.CapturedAt, m.CameraId, m.AuditoriumId, f.SiteId,
                m.EventKind ?? string.Join("+", m.Reasons), m.Uncertainty, m.ModelName is null ? null : $"{m.ModelName} {m.ModelVersion}"));
        }
    }
}

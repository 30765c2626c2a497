using System.Security.Claims;
using System.Text.RegularExpressions;
using CinemaVision.Core.Audience;
using CinemaVision.Core.Events;
using CinemaVision.Server.Auth;
using CinemaVision.Server.Evidence;
using CinemaVision.Server.Storage;
using CinemaVision.Server.Storage.TimeSeries;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;

namespace CinemaVision.Server.Audience;

/// <summary>An usher's count as the dashboard sends it.</summary>
/// <param name="At">When the people were counted (ISO 8601).</param>
/// <param name="People">How many people were in the auditorium.</param>
/// <param name="Seats">Optionally, the seats that were taken (ids such as F12).</param>
public sealed record SpotCountRequest(DateTimeOffset? At, int? People, IReadOnlyList<string>? Seats, string? Note);

/// <summary>Spot-count accuracy of one auditorium over a period, per day and overall.</summary>
public sealed record SpotCountAccuracy(
    string SiteId,
    string AuditoriumId,
    int SpotCounts,
    int Compared,
    double? MeanAbsoluteError,
    double? MeanError,
    double? MeanAbsolutePercentageError,
    IReadOnlyList<SpotCountAccuracyDay> Days,
    float SeatPriorThreshold,
    bool SeatPriorAdjusted,
    string? SeatPriorReason,
    DateTimeOffset? SeatPriorUpdatedAt);

public sealed record SpotCountAccuracyDay(DateOnly Day, int Compared, double MeanAbsoluteError, double MeanError);

/// <summary>Options of spot-count comparison and the seat-prior calibration.</summary>
public sealed class AudienceServerOptions
{
    public const string Section = "CinemaVision:Audience";

    /// <summary>A spot count is compared with the agent's sample nearest in time within this many seconds.</summary>
    public double CompareWindowSeconds { get; set; } = 120;

    /// <summary>Adjust an auditorium's seat-prior threshold from its spot counts (within <see cref="SeatPriorCalibrationOptions"/> bounds, audit-logged).</summary>
    public bool AdjustSeatPrior { get; set; } = true;
}

/// <summary>
/// The audience routes: empty-hall reference pictures per camera and lighting mode (agents and admins write them,
/// signed-in people and the site's agents read them; every access is in the audit log), and usher spot counts with
/// their comparison to what the agent reported, the accuracy per auditorium over time and the bounded, audited
/// adjustment of the auditorium's seat-prior threshold.
/// </summary>
public static partial class AudienceEndpoints
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^[A-Za-z]{1,3}[0-9]{1,4}$")]
    private static partial Regex SeatPattern();

    /// <summary>An agent of the site (API key) or a signed-in admin.</summary>
    private static readonly AuthorizationPolicy AgentOrAdmin = new AuthorizationPolicyBuilder(CookieAuthenticationDefaults.AuthenticationScheme, Policies.ApiKeyScheme)
        .RequireAssertion(c => c.User.IsInRole(Roles.Admin) || c.User.HasClaim(x => x.Type == AgentClaims.AgentId))
        .Build();

    /// <summary>Any signed-in person with a role, or an agent of the site (a replaced agent pulls its references back).</summary>
    private static readonly AuthorizationPolicy SignedInOrAgent = new AuthorizationPolicyBuilder(CookieAuthenticationDefaults.AuthenticationScheme, Policies.ApiKeyScheme)
        .RequireAssertion(c => Roles.All.Any(c.User.IsInRole) || c.User.HasClaim(x => x.Type == AgentClaims.AgentId))
        .Build();

    public static IServiceCollection AddAudience(this IServiceCollection services)
    {
        services.AddOptions<AudienceServerOptions>().BindConfiguration(AudienceServerOptions.Section);
        services.AddSingleton<IStateSchema, ReferenceFrameSchema>();
        services.AddSingleton<IStateSchema, SpotCountSchema>();
        services.AddSingleton<ReferenceFrameStore>();
        services.AddSingleton<SpotCountStore>();
        return services;
    }

    public static IEndpointRouteBuilder MapAudienceEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/sites/{siteId}/auditoriums/{auditoriumId}").WithTags("Audience");

        group.MapPut("/cameras/{cameraId}/reference/{mode}", async (string siteId, string auditoriumId, string cameraId, string mode, HttpRequest request, ReferenceFrameStore store, AuditLog audit, ClaimsPrincipal user, CancellationToken ct) =>
        {
            if (CheckIds(siteId, auditoriumId, cameraId, mode, user) is { } bad) return bad;
            if (!(request.ContentType ?? "").StartsWith("image/jpeg", StringComparison.OrdinalIgnoreCase))
            {
                return Results.Problem(statusCode: 415, title: "Unsupported reference type", detail: $"Content-Type must be image/jpeg (was '{request.ContentType}').");
            }

            var data = await ReadBounded(request, ReferenceFrameStore.MaxBytes, ct);
            if (data is null) return Results.Problem(statusCode: 413, title: "Reference too large", detail: $"body: at most {ReferenceFrameStore.MaxBytes} bytes.");
            if (EvidenceStore.Sniff(data) != "image/jpeg") return Results.Problem(statusCode: 400, title: "Not a complete JPEG", detail: "body: the bytes are not a complete JPEG (wrong type or truncated upload); nothing was stored.");
            var actor = Actor(user);
            var saved = store.Save(siteId, auditoriumId, cameraId, mode, data, actor);
            audit.Write(actor, "reference.put", $"{siteId}/{auditoriumId}/{cameraId}/{mode}", $"{saved.Bytes} bytes");
            return Results.Ok(new { siteId, auditoriumId, cameraId, mode, bytes = saved.Bytes, etag = saved.ETag, updatedAt = saved.UpdatedAt });
        }).RequireAuthorization(AgentOrAdmin).DisableAntiforgery();

        group.MapGet("/cameras/{cameraId}/reference/{mode}", (string siteId, string auditoriumId, string cameraId, string mode, HttpContext http, ReferenceFrameStore store, AuditLog audit) =>
        {
            if (CheckIds(siteId, auditoriumId, cameraId, mode, http.User) is { } bad) return bad;
            if (store.Get(siteId, auditoriumId, cameraId, mode) is not { } frame)
            {
                return Results.Problem(statusCode: 404, title: "No reference", detail: $"Camera '{cameraId}' of {siteId}/{auditoriumId} has no '{mode}' empty-hall reference yet.");
            }

            audit.Write(Actor(http.User), "reference.get", $"{siteId}/{auditoriumId}/{cameraId}/{mode}");
            http.Response.Headers.ETag = frame.ETag;
            if (http.Request.Headers.IfNoneMatch.Contains(frame.ETag)) return Results.StatusCode(StatusCodes.Status304NotModified);
            return Results.File(frame.Path, "image/jpeg", lastModified: frame.UpdatedAt);
        }).RequireAuthorization(SignedInOrAgent);

        group.MapGet("/cameras/{cameraId}/reference", (string siteId, string auditoriumId, string cameraId, ClaimsPrincipal user, ReferenceFrameStore store) =>
        {
            if (CheckIds(siteId, auditoriumId, cameraId, "lit", user) is { } bad) return bad;
            return Results.Ok(store.List(siteId, auditoriumId, cameraId).Select(r => new { r.Mode, r.Bytes, etag = r.ETag, r.UpdatedAt, r.UpdatedBy }));
        }).RequireAuthorization(SignedInOrAgent);

        group.MapPost("/spot-counts", async (string siteId, string auditoriumId, SpotCountRequest body, ClaimsPrincipal user, SpotCountStore store, ITimeSeriesStore series, AuditLog audit, TimeProvider time, Microsoft.Extensions.Options.IOptions<AudienceServerOptions> options, CancellationToken ct) =>
        {
            if (CheckIds(siteId, auditoriumId, null, null, user) is { } badId) return badId;
            var now = time.GetUtcNow();
            var problems = Validate(body, now);
            if (problems.Count > 0)
            {
                return Results.Problem(statusCode: 400, title: "Invalid spot count", detail: string.Join("; ", problems), extensions: new Dictionary<string, object?> { ["problems"] = problems });
            }

            var spot = new SpotCount(siteId, auditoriumId, body.At!.Value, body.People!.Value, body.Seats?.Distinct(StringComparer.Ordinal).ToList(), body.Note?.Trim());
            var window = TimeSpan.FromSeconds(options.Value.CompareWindowSeconds);
            var points = await series.GetOccupancyAsync(siteId, auditoriumId, spot.At - window, spot.At + window, OccupancyResolution.Raw, ct);
            var samples = points.Select(p => new OccupancySample("", siteId, auditoriumId, null, p.Timestamp, (int)Math.Round(p.People), (int)Math.Round(p.SeatsOccupied), p.SeatsTotal, 0, p.Confidence)).ToList();
            IReadOnlyDictionary<string, SeatState>? seats = null;
            if (spot.OccupiedSeats is not null)
            {
                var states = await series.GetSeatStatesAtAsync(siteId, auditoriumId, spot.At, ct);
                seats = states.ToDictionary(kv => kv.Key, kv => kv.Value.State, StringComparer.Ordinal);
            }

            var comparison = SpotCountComparer.Compare(spot, samples, seats, window);
            var actor = Actor(user);
            var stored = store.Add(spot, comparison, actor, now);
            audit.Write(actor, "spot-count.add", $"{siteId}/{auditoriumId}", SpotCountStore.Invariant($"{spot.People} people at {spot.At:O}; reported {comparison.ReportedPeople?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "nothing"}"));
            var adjustment = options.Value.AdjustSeatPrior ? Calibrate(siteId, auditoriumId, store, audit, now) : null;
            return Results.Created($"/api/v1/sites/{siteId}/auditoriums/{auditoriumId}/spot-counts/{stored.Id}", new { spotCount = stored, seatPriorAdjustment = adjustment });
        }).RequireAuthorization(Policies.Viewer);

        group.MapGet("/spot-counts", (string siteId, string auditoriumId, DateTimeOffset? from, DateTimeOffset? to, ClaimsPrincipal user, SpotCountStore store, TimeProvider time) =>
        {
            if (CheckIds(siteId, auditoriumId, null, null, user) is { } bad) return bad;
            var now = time.GetUtcNow();
            return Results.Ok(store.Between(siteId, auditoriumId, from ?? now.AddDays(-30), to ?? now.AddMinutes(1)));
        }).RequireAuthorization(Policies.Viewer);

        group.MapGet("/spot-counts/accuracy", (string siteId, string auditoriumId, DateTimeOffset? from, DateTimeOffset? to, ClaimsPrincipal user, SpotCountStore store, TimeProvider time) =>
        {
            if (CheckIds(siteId, auditoriumId, null, null, user) is { } bad) return bad;
            var now = time.GetUtcNow();
            return Results.Ok(Accuracy(siteId, auditoriumId, store.Between(siteId, auditoriumId, from ?? now.AddDays(-30), to ?? now.AddMinutes(1)), store.Threshold(siteId, auditoriumId)));
        }).RequireAuthorization(Policies.Viewer);

        return app;
    }

    /// <summary>The product default seat-prior threshold an auditorium starts from.</summary>
    public static float DefaultSeatPrior => new AudienceOptions().SeatHeadScore;

    private static SeatPriorAdjustment? Calibrate(string siteId, string auditoriumId, SpotCountStore store, AuditLog audit, DateTimeOffset now)
    {
        var current = store.Threshold(siteId, auditoriumId);
        var errors = store.Between(siteId, auditoriumId, now.AddDays(-30), now.AddMinutes(1))
            .Where(s => s.Error is not null)
            .Select(s => (s.At, s.People, s.Error!.Value))
            .ToList();
        var decision = SeatPriorCalibration.Decide(errors, current?.Threshold ?? DefaultSeatPrior, now, current?.UpdatedAt);
        if (decision is null) return null;
        store.SetThreshold(siteId, auditoriumId, decision.To, now, decision.Reason);
        audit.Write("calibration", "seat-prior.adjusted", $"{siteId}/{auditoriumId}", decision.Reason);
        return decision;
    }

    internal static SpotCountAccuracy Accuracy(string siteId, string auditoriumId, IReadOnlyList<StoredSpotCount> spots, SeatPriorThreshold? threshold)
    {
        var compared = spots.Where(s => s.Error is not null).ToList();
        var days = compared.GroupBy(s => DateOnly.FromDateTime(s.At.UtcDateTime))
            .OrderBy(g => g.Key)
            .Select(g => new SpotCountAccuracyDay(g.Key, g.Count(), Math.Round(g.Average(s => Math.Abs(s.Error!.Value)), 3), Math.Round(g.Average(s => (double)s.Error!.Value), 3)))
            .ToList();
        double? Round(double? v) => v is null ? null : Math.Round(v.Value, 3);
        return new SpotCountAccuracy(
            siteId,
            auditoriumId,
            spots.Count,
            compared.Count,
            Round(compared.Count == 0 ? null : compared.Average(s => Math.Abs(s.Error!.Value))),
            Round(compared.Count == 0 ? null : compared.Average(s => (double)s.Error!.Value)),
            Round(compared.Any(s => s.People > 0) ? compared.Where(s => s.People > 0).Average(s => Math.Abs(s.Error!.Value) / (double)s.People) : null),
            days,
            threshold?.Threshold ?? DefaultSeatPrior,
            threshold is not null,
            threshold?.Reason,
            threshold?.UpdatedAt);
    }

    private static List<string> Validate(SpotCountRequest? body, DateTimeOffset now)
    {
        var problems = new List<string>();
        if (body is null)
        {
            problems.Add("body: a JSON object {\"at\": time, \"people\": number, \"seats\": [ids]?, \"note\": text?} is required.");
            return problems;
        }

        if (body.At is not { } at) problems.Add("at: is required (the time the people were counted, ISO 8601).");
        else if (at > now.AddMinutes(5)) problems.Add($"at: {at:O} is in the future.");
        else if (at < now.AddDays(-30)) problems.Add($"at: {at:O} is more than 30 days ago.");
        if (body.People is not { } people) problems.Add("people: is required (how many people were counted).");
        else if (people is < 0 or > 10_000) problems.Add($"people: must be within 0..10000 (was {people}).");
        if (body.Seats is { } seats)
        {
            var bad = seats.Where(s => s is null || !SeatPattern().IsMatch(s)).Take(10).ToList();
            if (bad.Count > 0) problems.Add($"seats: not seat ids like F12: {string.Join(", ", bad)}.");
            if (body.People is { } p && seats.Distinct(StringComparer.Ordinal).Count() > p) problems.Add($"seats: {seats.Distinct(StringComparer.Ordinal).Count()} occupied seats but people is {p}.");
        }

        if (body.Note is { Length: > 500 }) problems.Add("note: at most 500 characters.");
        return problems;
    }

    private static IResult? CheckIds(string siteId, string auditoriumId, string? cameraId, string? mode, ClaimsPrincipal user)
    {
        foreach (var (field, value) in new[] { ("siteId", siteId), ("auditoriumId", auditoriumId), ("cameraId", cameraId) })
        {
            if (value is not null && !IdPattern().IsMatch(value))
            {
                return Results.Problem(statusCode: 400, title: "Invalid id", detail: $"{field}: letters, digits, '.', '_' or '-', at most 64 characters (was '{value}').");
            }
        }

        if (mode is not null && !ReferenceFrameStore.IsMode(mode))
        {
            return Results.Problem(statusCode: 400, title: "Invalid lighting mode", detail: $"mode: one of {ReferenceFrameStore.Modes} (was '{mode}').");
        }

        // An agent acts for its own site only.
        if (user.FindFirst(AgentClaims.SiteId)?.Value is { } agentSite && agentSite != siteId)
        {
            return Results.Problem(statusCode: 403, title: "Wrong site", detail: $"siteId: this agent belongs to site '{agentSite}', not '{siteId}'.");
        }

        return null;
    }

    private static string Actor(ClaimsPrincipal user) =>
        user.FindFirst(AgentClaims.AgentId)?.Value is { } agent ? "agent:" + agent : user.Identity?.Name ?? "?";

    private static async Task<byte[]?> ReadBounded(HttpRequest request, int max, CancellationToken ct)
    {
        if (request.ContentLength is { } length && length > max) return null;
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > max) return null;
        }

        return buffer.ToArray();
    }
}

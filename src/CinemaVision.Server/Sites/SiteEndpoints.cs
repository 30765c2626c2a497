using System.Security.Claims;
using System.Text.Json.Nodes;
using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Events;
using CinemaVision.Core.Showings;
using CinemaVision.Server.Auth;
using CinemaVision.Server.Http;
using CinemaVision.Server.Showings;
using CinemaVision.Server.Storage.TimeSeries;

namespace CinemaVision.Server.Sites;

/// <summary>Auditorium configuration (seat maps, zones), the screening schedule, sold seats and the per-showing reconciliation.</summary>
public static class SiteEndpoints
{
    public const long MaxAuditoriumBytes = 2 * 1024 * 1024;
    public const long MaxTicketBytes = 512 * 1024;
    public const int MaxTickets = 20_000;

    public static IEndpointRouteBuilder MapSiteEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/sites", (SiteStore store) => Results.Ok(store.List())).WithTags("Sites").RequireAuthorization(Policies.Viewer);
        app.MapPut("/api/v1/sites/{siteId}", (string siteId, SiteRequest body, SiteStore store, AuditLog audit, ClaimsPrincipal user) =>
        {
            var (site, errors) = store.Save(siteId, body.Name, body.TimeZone, user.Identity?.Name ?? "?");
            if (site is null) return Results.ValidationProblem(errors, title: "Invalid site");
            audit.Write(user.Identity?.Name ?? "?", "site.save", siteId, $"{site.Name}; {site.TimeZoneId}");
            return Results.Ok(site);
        }).WithTags("Sites").RequireAuthorization(Policies.Admin);

        var sites = app.MapGroup("/api/v1/sites/{siteId}").WithTags("Sites");

        sites.MapPut("/auditoriums/{auditoriumId}", async (string siteId, string auditoriumId, HttpRequest request, AuditoriumConfigStore store, ClaimsPrincipal user, CancellationToken ct) =>
        {
            if (await BodyText.ReadAsync(request, MaxAuditoriumBytes, ct) is not { } body) return BodyText.TooLarge("Auditorium file", MaxAuditoriumBytes);
            var parsed = AuditoriumFile.Parse(body);
            var problems = parsed.Problems.Select(p => p.ToString()).ToList();
            if (parsed.Auditorium is { } a && (a.SiteId != siteId || a.AuditoriumId != auditoriumId))
            {
                problems.Add($"siteId/auditoriumId: the file is for {a.SiteId}/{a.AuditoriumId}, the address for {siteId}/{auditoriumId}");
            }

            if (problems.Count > 0)
            {
                return Results.Problem(statusCode: 400, title: "Invalid auditorium file", detail: string.Join("; ", problems), extensions: new Dictionary<string, object?> { ["problems"] = problems });
            }

            var saved = store.Save(siteId, auditoriumId, body, user.Identity?.Name ?? "?");
            return Results.Ok(new { saved.SiteId, saved.AuditoriumId, saved.Version, saved.ETag });
        }).RequireAuthorization(Policies.Admin);

        sites.MapGet("/auditoriums", (string siteId, AuditoriumConfigStore store) =>
            Results.Ok(store.ForSite(siteId).Select(c => new { c.AuditoriumId, c.Version, c.ETag, c.UpdatedAt, c.UpdatedBy }))).RequireAuthorization(Policies.Viewer);

        sites.MapPost("/showings/import", async (string siteId, HttpRequest request, ShowingStore store, SiteStore siteStore, TimeProvider time, CancellationToken ct) =>
        {
            if (await BodyText.ReadAsync(request, ShowingStore.MaxScheduleBytes, ct) is not { } text) return BodyText.TooLarge("Schedule", ShowingStore.MaxScheduleBytes);
            bool json = request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true;
            var (showings, problems) = ShowingStore.ParseSchedule(text, json, siteStore.Get(siteId).TimeZone);
            problems.AddRange(ShowingStore.CheckBounds(showings, time.GetUtcNow()));
            if (problems.Count > 0)
            {
                var list = problems.Select(p => p.ToString()).ToList();
                return Results.Problem(statusCode: 400, title: "Invalid schedule", detail: $"{problems.Count} problem(s); nothing was imported: " + string.Join("; ", list.Take(20)), extensions: new Dictionary<string, object?> { ["problems"] = list });
            }

            store.Upsert(siteId, showings);
            return Results.Ok(new { imported = showings.Count });
        }).RequireAuthorization(Policies.Viewer).DisableAntiforgery();

        sites.MapPut("/showings/{showingId}/tickets", async (string siteId, string showingId, HttpRequest request, ShowingStore store, CancellationToken ct) =>
        {
            if (store.Get(siteId, showingId) is null) return Results.Problem(statusCode: 404, title: "No such showing", detail: $"Showing '{showingId}' is not in the schedule of site '{siteId}'.");
            if (await BodyText.ReadAsync(request, MaxTicketBytes, ct) is not { } text) return BodyText.TooLarge("Ticket list", MaxTicketBytes);
            var (seats, problems) = ShowingStore.ParseTickets(text, request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true);
            if (problems.Count > 0)
            {
                var list = problems.Select(p => p.ToString()).ToList();
                return Results.Problem(statusCode: 400, title: "Invalid ticket list", detail: $"{problems.Count} problem(s); nothing was stored: " + string.Join("; ", list.Take(20)), extensions: new Dictionary<string, object?> { ["problems"] = list });
            }

            if (seats.Count > MaxTickets) return Results.Problem(statusCode: 413, title: "Ticket list too long", detail: $"at most {MaxTickets} seats per showing (was {seats.Count}).");

            store.SetTickets(siteId, showingId, seats);
            return Results.Ok(new { showingId, ticketsSold = seats.Distinct(StringComparer.Ordinal).Count() });
        }).RequireAuthorization(Policies.Viewer);

        sites.MapGet("/showings", (string siteId, DateTimeOffset? from, DateTimeOffset? to, ShowingStore store, TimeProvider time) =>
            Results.Ok(store.Between(siteId, from ?? time.GetUtcNow().AddDays(-1), to ?? time.GetUtcNow().AddDays(7)))).RequireAuthorization(Policies.Viewer);

        sites.MapGet("/showings/{showingId}/reconciliation", async (string siteId, string showingId, double? checkpointMinutes, ShowingStore store, ShowingAnalysis analysis, CancellationToken ct) =>
        {
            if (store.Get(siteId, showingId) is not { } showing) return Results.Problem(statusCode: 404, title: "No such showing", detail: $"Showing '{showingId}' is not in the schedule of site '{siteId}'.");
            if (checkpointMinutes is { } minutes && InputRules.RangeProblem(minutes, 0, 24 * 60) is { } bad)
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["checkpointMinutes"] = [bad] }, title: "Invalid checkpoint");
            }

            var checkpoint = checkpointMinutes is { } m ? TimeSpan.FromMinutes(m) : ShowingAnalysis.DefaultCheckpoint;
            return Results.Ok((await analysis.AnalyseAsync(siteId, showing, checkpoint, ct)).Reconciliation);
        }).RequireAuthorization(Policies.Viewer);

        // What agents pull: their site's auditorium files (ETag, 304 when unchanged) and the schedule to arm their rules.
        var agent = app.MapGroup("/api/v1/agent").WithTags("Agents").RequireAuthorization(Policies.Agent);
        agent.MapGet("/config", (HttpContext http, AuditoriumConfigStore store, Audience.SpotCountStore spotCounts) =>
        {
            var site = http.User.FindFirstValue(AgentClaims.SiteId)!;
            // Seat-prior thresholds adjusted from spot counts are served inside each file's pipeline section.
            var configs = Audience.SeatPriorOverlay.Apply(store.ForSite(site), spotCounts.Thresholds(site));
            var etag = AuditoriumConfigStore.SiteETag(configs);
            http.Response.Headers.ETag = etag;
            if (http.Request.Headers.IfNoneMatch.Contains(etag)) return Results.StatusCode(StatusCodes.Status304NotModified);
            var array = new JsonArray([.. configs.Select(c => JsonNode.Parse(c.Body))]);
            return Results.Text(new JsonObject { ["siteId"] = site, ["auditoriums"] = array }.ToJsonString(), "application/json");
        });
        agent.MapGet("/showings", (HttpContext http, ShowingStore store, TimeProvider time) =>
        {
            var site = http.User.FindFirstValue(AgentClaims.SiteId)!;
            var now = time.GetUtcNow();
            // The window moves with the clock, so the ETag is of the answer itself: agents poll it cheaply (304).
            var body = System.Text.Json.JsonSerializer.Serialize(store.Between(site, now.AddHours(-6), now.AddDays(2)), IngestJson.Options);
            var etag = "\"" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(body)))[..32] + "\"";
            http.Response.Headers.ETag = etag;
            if (http.Request.Headers.IfNoneMatch.Contains(etag)) return Results.StatusCode(StatusCodes.Status304NotModified);
            return Results.Text(body, "application/json");
        });
        return app;
    }
}

/// <summary>A site's display name and IANA time zone.</summary>
public sealed record SiteRequest(string? Name, string? TimeZone);

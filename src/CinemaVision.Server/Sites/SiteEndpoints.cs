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

        sites.MapPost("/showings/import", async (string siteId, HttpRequest request, ShowingStore store, TimeProvider time, CancellationToken ct) =>
        {
            if (await BodyText.ReadAsync(request, ShowingStore.MaxScheduleBytes, ct) is not { } text) return BodyText.TooLarge("Schedule", ShowingStore.MaxScheduleBytes);
            bool json = request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true;
            var (showings, problems) = ShowingStore.ParseSchedule(text, json);
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
            List<string> seats;
            try
            {
                if (request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
                {
                    seats = [];
                    var array = JsonNode.Parse(text) as JsonArray ?? throw new InvalidOperationException("the body is not a JSON array.");
                    for (var i = 0; i < array.Count; i++)
                    {
                        if (array[i] is not JsonValue v || !v.TryGetValue<string>(out var seat))
                        {
                            return Results.Problem(statusCode: 400, title: "Invalid ticket list", detail: $"[{i}]: expected a seat id string (was {array[i]?.ToJsonString() ?? "null"}).");
                        }

                        seats.Add(seat);
                    }
                }
                else
                {
                    seats = text.Split(['\n', ',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(s => !s.Equals("seat", StringComparison.OrdinalIgnoreCase)).ToList();
                }
            }
            catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException)
            {
                return Results.Problem(statusCode: 400, title: "Invalid ticket list", detail: $"expected a JSON array of seat ids or one seat id per line: {ex.Message}");
            }

            if (seats.Count > MaxTickets) return Results.Problem(statusCode: 413, title: "Ticket list too long", detail: $"at most {MaxTickets} seats per showing (was {seats.Count}).");

            var bad = seats.Where(s => !System.Text.RegularExpressions.Regex.IsMatch(s, "^[A-Za-z]{1,3}[0-9]{1,4}$")).ToList();
            if (bad.Count > 0) return Results.Problem(statusCode: 400, title: "Invalid seat ids", detail: "not seat ids like F12: " + string.Join(", ", bad.Take(20)));
            store.SetTickets(siteId, showingId, seats);
            return Results.Ok(new { showingId, ticketsSold = seats.Distinct(StringComparer.Ordinal).Count() });
        }).RequireAuthorization(Policies.Viewer);

        sites.MapGet("/showings", (string siteId, DateTimeOffset? from, DateTimeOffset? to, ShowingStore store, TimeProvider time) =>
            Results.Ok(store.Between(siteId, from ?? time.GetUtcNow().AddDays(-1), to ?? time.GetUtcNow().AddDays(7)))).RequireAuthorization(Policies.Viewer);

        sites.MapGet("/showings/{showingId}/reconciliation", async (string siteId, string showingId, double? checkpointMinutes, ShowingStore store, ITimeSeriesStore series, CancellationToken ct) =>
        {
            if (store.Get(siteId, showingId) is not { } showing) return Results.Problem(statusCode: 404, title: "No such showing", detail: $"Showing '{showingId}' is not in the schedule of site '{siteId}'.");
            if (checkpointMinutes is { } minutes && InputRules.RangeProblem(minutes, 0, 24 * 60) is { } bad)
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["checkpointMinutes"] = [bad] }, title: "Invalid checkpoint");
            }

            var checkpoint = TimeSpan.FromMinutes(checkpointMinutes ?? 15);
            var samples = await series.GetShowingOccupancyAsync(siteId, showing.AuditoriumId, showing.Id, ct);
            if (samples.Count == 0) samples = (await series.GetOccupancyAsync(siteId, showing.AuditoriumId, showing.FeatureStart, showing.End, OccupancyResolution.Raw, ct))
                .Select(p => new OccupancySample("", siteId, showing.AuditoriumId, null, p.Timestamp, (int)Math.Round(p.People), (int)Math.Round(p.SeatsOccupied), p.SeatsTotal, 0, p.Confidence)).ToList();
            var states = await series.GetSeatStatesAtAsync(siteId, showing.AuditoriumId, showing.FeatureStart + checkpoint, ct);
            var result = ShowingReconciler.Reconcile(showing, store.Tickets(siteId, showing.Id), samples, states.ToDictionary(kv => kv.Key, kv => kv.Value.State, StringComparer.Ordinal), checkpoint);
            return Results.Ok(result);
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

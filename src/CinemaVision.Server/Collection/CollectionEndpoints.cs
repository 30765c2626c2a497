using System.Security.Claims;
using System.Text.Json;
using CinemaVision.Core.Collection;
using CinemaVision.Core.Events;
using CinemaVision.Server.Auth;
using CinemaVision.Server.Evidence;
using CinemaVision.Server.Storage;

namespace CinemaVision.Server.Collection;

/// <summary>Frame collection for retraining: agents upload kept frames, the data team lists and fetches them (audit-logged), admins set the per-auditorium policy.</summary>
public static class CollectionEndpoints
{
    public static IServiceCollection AddFrameCollection(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<FrameCollectionOptions>().Bind(configuration.GetSection(FrameCollectionOptions.Section));
        services.AddSingleton<IStateSchema, CollectionSchema>();
        services.AddSingleton<CollectedFrameStore>();
        services.AddSingleton<CollectionSettingsStore>();
        services.AddHostedService<CollectedFrameRetentionService>();
        return services;
    }

    public static IEndpointRouteBuilder MapFrameCollectionEndpoints(this IEndpointRouteBuilder app)
    {
        var agent = app.MapGroup("/api/v1/agent").WithTags("Frame collection").RequireAuthorization(Policies.Agent);

        // The agent's site's collection policies; an auditorium not listed collects nothing.
        agent.MapGet("/collection", (ClaimsPrincipal user, CollectionSettingsStore settings) =>
            Results.Ok(new { auditoriums = settings.ForSite(user.FindFirstValue(AgentClaims.SiteId)!) }));

        agent.MapPost("/frames", async (HttpRequest request, ClaimsPrincipal user, CollectedFrameStore store, CollectionSettingsStore settings, CancellationToken ct) =>
        {
            if (!request.HasFormContentType) return Results.Problem(statusCode: 415, title: "Multipart form expected", detail: "Send multipart/form-data with a 'meta' JSON field and an 'image' JPEG file.");
            if (request.ContentLength is { } length && length > store.Options.MaxFrameBytes + 64 * 1024)
            {
                return Results.Problem(statusCode: 413, title: "Frame too large", detail: $"At most {store.Options.MaxFrameBytes} bytes per frame.");
            }

            var form = await request.ReadFormAsync(ct);
            CollectedFrameMeta? meta;
            try
            {
                meta = JsonSerializer.Deserialize<CollectedFrameMeta>(form["meta"].ToString(), IngestJson.Options);
            }
            catch (JsonException ex)
            {
                return Results.Problem(statusCode: 400, title: "Invalid frame metadata", detail: $"meta: {ex.Message}");
            }

            var problems = Validate(meta).ToList();
            if (problems.Count > 0) return Results.Problem(statusCode: 400, title: "Invalid frame metadata", detail: string.Join(" ", problems));
            var site = user.FindFirstValue(AgentClaims.SiteId)!;
            if (!settings.For(site, meta!.AuditoriumId).Enabled)
            {
                return Results.Problem(statusCode: 403, title: "Collection is off", detail: $"Frame collection is off for auditorium '{meta.AuditoriumId}' of site '{site}'; nothing was stored.");
            }

            if (form.Files.GetFile("image") is not { } file) return Results.Problem(statusCode: 400, title: "No image", detail: "image: the JPEG file is missing.");
            if (file.Length > store.Options.MaxFrameBytes) return Results.Problem(statusCode: 413, title: "Frame too large", detail: $"At most {store.Options.MaxFrameBytes} bytes per frame.");
            using var buffer = new MemoryStream();
            await file.CopyToAsync(buffer, ct);
            var bytes = buffer.ToArray();
            if (EvidenceStore.Sniff(bytes) != "image/jpeg") return Results.Problem(statusCode: 400, title: "Not a complete JPEG", detail: "image: the bytes are not a complete JPEG (wrong type or truncated upload); nothing was stored.");
            var (saved, created) = store.Save(meta, site, user.FindFirstValue(AgentClaims.AgentId)!, bytes);
            return created ? Results.Created($"/api/v1/frames/{meta.Id}", saved) : Results.Ok(saved);
        }).DisableAntiforgery();

        var frames = app.MapGroup("/api/v1/frames").WithTags("Frame collection").RequireAuthorization(Policies.DataTeam);
        frames.MapGet("/", (string? siteId, string? auditoriumId, DateTimeOffset? from, DateTimeOffset? to, string? reason, string? eventKind, double? minUncertainty, int? limit,
            CollectedFrameStore store, AuditLog audit, ClaimsPrincipal user) =>
        {
            return Results.Ok(ListFrames(store, audit, new FrameQuery(siteId, auditoriumId, from, to, reason, eventKind, minUncertainty, limit ?? 500), user.Identity?.Name ?? "?"));
        });
        frames.MapGet("/{id}", (string id, CollectedFrameStore store, AuditLog audit, ClaimsPrincipal user) =>
        {
            if (!EvidenceStore.IdPattern().IsMatch(id) || store.FileOf(id) is not { } path) return Results.Problem(statusCode: 404, title: "No such frame", detail: $"Frame '{id}' does not exist or has passed its retention time.");
            audit.Write(user.Identity?.Name ?? "?", "frames.fetch", id);
            return Results.File(path, "image/jpeg");
        });
        frames.MapGet("/{id}/meta", (string id, CollectedFrameStore store, AuditLog audit, ClaimsPrincipal user) =>
        {
            if (store.Get(id) is not { } info) return Results.Problem(statusCode: 404, title: "No such frame", detail: $"Frame '{id}' does not exist.");
            audit.Write(user.Identity?.Name ?? "?", "frames.meta", id);
            return Results.Ok(info);
        });
        frames.MapDelete("/{id}", (string id, CollectedFrameStore store, AuditLog audit, ClaimsPrincipal user) =>
        {
            return DeleteFrame(store, audit, id, user.Identity?.Name ?? "?") ? Results.NoContent() : Results.NotFound();
        });

        var sites = app.MapGroup("/api/v1/sites/{siteId}").WithTags("Frame collection");
        sites.MapGet("/collection", (string siteId, CollectionSettingsStore settings) => Results.Ok(settings.ForSite(siteId))).RequireAuthorization(Policies.DataTeam);
        sites.MapPut("/auditoriums/{auditoriumId}/collection", (string siteId, string auditoriumId, FrameCollectionPolicy policy, CollectionSettingsStore settings, AuditLog audit, ClaimsPrincipal user) =>
        {
            var problems = SetPolicy(settings, audit, siteId, auditoriumId, policy, user.Identity?.Name ?? "?");
            return problems.Count > 0 ? Results.Problem(statusCode: 400, title: "Invalid collection policy", detail: string.Join(" ", problems)) : Results.Ok(policy);
        }).RequireAuthorization(Policies.Admin);
        return app;
    }

    /// <summary>Lists frames and writes <c>frames.list</c> to the audit log: the one path for the endpoint and the dashboard.</summary>
    public static IReadOnlyList<CollectedFrameInfo> ListFrames(CollectedFrameStore store, AuditLog audit, FrameQuery q, string by)
    {
        var list = store.List(q);
        audit.Write(by, "frames.list", $"{q.SiteId ?? "*"}/{q.AuditoriumId ?? "*"}", $"{list.Count} frames; from {q.From:O} to {q.To:O} reason {q.Reason} kind {q.EventKind} uncertainty>={q.MinUncertainty}");
        return list;
    }

    /// <summary>Deletes a frame and writes <c>frames.delete</c> to the audit log; false when there was no such frame.</summary>
    public static bool DeleteFrame(CollectedFrameStore store, AuditLog audit, string id, string by)
    {
        if (!store.Delete(id)) return false;
        audit.Write(by, "frames.delete", id);
        return true;
    }

    /// <summary>
    /// Validates and saves an auditorium's collection policy and writes <c>collection.set</c> to the audit log: the one
    /// path for <c>PUT .../collection</c> and the dashboard. Returns the problems (nothing saved) when it is invalid.
    /// </summary>
    public static IReadOnlyList<string> SetPolicy(CollectionSettingsStore settings, AuditLog audit, string siteId, string auditoriumId, FrameCollectionPolicy policy, string by)
    {
        var problems = policy.Validate().ToList();
        if (problems.Count > 0) return problems;
        settings.Save(siteId, auditoriumId, policy, by);
        audit.Write(by, "collection.set", $"{siteId}/{auditoriumId}", policy.Enabled ? $"on, {policy.RetentionDays} days, {policy.MaxBytes} bytes" : "off");
        return problems;
    }

    private static IEnumerable<string> Validate(CollectedFrameMeta? meta)
    {
        if (meta is null)
        {
            yield return "meta: required (JSON).";
            yield break;
        }

        if (!EvidenceStore.IdPattern().IsMatch(meta.Id)) yield return "meta.id: letters, digits, '.', '_' or '-', at most 128 characters.";
        if (string.IsNullOrWhiteSpace(meta.AuditoriumId)) yield return "meta.auditoriumId: required.";
        if (string.IsNullOrWhiteSpace(meta.CameraId)) yield return "meta.cameraId: required.";
        if (meta.Uncertainty is < 0 or > 1) yield return "meta.uncertainty: within 0..1.";
        foreach (var r in meta.Reasons.Where(r => !CollectionReasons.All.Contains(r))) yield return $"meta.reasons: unknown reason '{r}' (known: {string.Join(", ", CollectionReasons.All)}).";
    }
}

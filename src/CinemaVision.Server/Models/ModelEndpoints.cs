using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CinemaVision.Core.Events;
using CinemaVision.Core.Models;
using CinemaVision.Server.Auth;
using CinemaVision.Server.Storage;

namespace CinemaVision.Server.Models;

/// <summary>
/// Model versions at the centre: the data team uploads versions (manifest entry, card, ONNX file), admins assign one
/// per auditorium, agents pull their site's assignments and the file (sha256 in the listing and a header, to verify)
/// and report what they run; the dashboard shows assigned and running side by side.
/// </summary>
public static partial class ModelEndpoints
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();

    public static IServiceCollection AddModelVersions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ModelVersionOptions>().Bind(configuration.GetSection(ModelVersionOptions.Section));
        services.AddSingleton<IStateSchema, ModelVersionSchema>();
        services.AddSingleton<ModelVersionStore>();
        return services;
    }

    public static IEndpointRouteBuilder MapModelEndpoints(this IEndpointRouteBuilder app)
    {
        var models = app.MapGroup("/api/v1/models").WithTags("Models");
        models.MapPost("/", async (HttpRequest request, ModelVersionStore store, AuditLog audit, ClaimsPrincipal user, CancellationToken ct) =>
        {
            if (!request.HasFormContentType) return Results.Problem(statusCode: 415, title: "Multipart form expected", detail: "Send multipart/form-data with 'manifest' (the models.json entry), optional 'card' (JSON) and 'file' (the ONNX model).");
            var form = await request.ReadFormAsync(ct);
            JsonObject? manifest;
            ModelCard? card = null;
            try
            {
                manifest = JsonNode.Parse(form["manifest"].ToString())?.AsObject();
                if (form["card"].ToString() is { Length: > 0 } cardJson) card = JsonSerializer.Deserialize<ModelCard>(cardJson, IngestJson.Options);
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException)
            {
                return Results.Problem(statusCode: 400, title: "Invalid model upload", detail: $"manifest/card: {ex.Message}");
            }

            var problems = ValidateManifest(manifest).ToList();
            var file = form.Files.GetFile("file");
            if (file is not { Length: > 0 }) problems.Add("file: the ONNX model is missing or empty.");
            if (problems.Count > 0) return Results.Problem(statusCode: 400, title: "Invalid model upload", detail: string.Join(" ", problems));
            string name = (string)manifest!["name"]!, version = (string)manifest["version"]!;
            await using var stream = file!.OpenReadStream();
            (StoredModelVersion? stored, bool created, string? conflict) result;
            try
            {
                result = await store.SaveAsync(name, version, manifest, card, stream, user.Identity?.Name ?? "?", ct);
            }
            catch (InvalidDataException ex)
            {
                return Results.Problem(statusCode: 413, title: "Model too large", detail: ex.Message);
            }
            catch (ArgumentException ex)
            {
                return Results.Problem(statusCode: 400, title: "Hash mismatch", detail: ex.Message);
            }

            if (result.conflict is { } message) return Results.Problem(statusCode: 409, title: "Version exists", detail: message);
            var saved = result.stored!;
            audit.Write(user.Identity?.Name ?? "?", "model.upload", $"{name} {version}", saved.Sha256);
            return result.created ? Results.Created($"/api/v1/models/{name}/{version}", Describe(saved)) : Results.Ok(Describe(saved));
        }).RequireAuthorization(Policies.DataTeam).DisableAntiforgery();

        models.MapGet("/", (ModelVersionStore store) => Results.Ok(store.List().Select(Describe))).RequireAuthorization(Policies.Viewer);
        models.MapGet("/{name}/{version}", (string name, string version, ModelVersionStore store) =>
            store.Get(name, version) is { } v ? Results.Ok(Describe(v)) : NotFound(name, version)).RequireAuthorization(Policies.Viewer);
        models.MapGet("/{name}/{version}/file", (string name, string version, HttpContext http, ModelVersionStore store) => File(http, store, name, version))
            .RequireAuthorization(Policies.DataTeam);

        var sites = app.MapGroup("/api/v1/sites/{siteId}").WithTags("Models");
        sites.MapGet("/models", (string siteId, ModelVersionStore store) => Results.Ok(store.ForSite(siteId))).RequireAuthorization(Policies.Viewer);
        sites.MapPut("/auditoriums/{auditoriumId}/model", (string siteId, string auditoriumId, AssignModelRequest body, ModelVersionStore store, AuditLog audit, ClaimsPrincipal user) =>
        {
            var assigned = Assign(store, audit, siteId, auditoriumId, body.Name, body.Version, user.Identity?.Name ?? "?");
            return assigned is null ? NotFound(body.Name, body.Version) : Results.Ok(assigned);
        }).RequireAuthorization(Policies.Admin);

        // What agents pull: the versions assigned to their site's auditoriums, then each file (hash-verified by the agent).
        var agent = app.MapGroup("/api/v1/agent/models").WithTags("Agents").RequireAuthorization(Policies.Agent);
        agent.MapGet("/", (HttpContext http, ModelVersionStore store) =>
        {
            var site = http.User.FindFirstValue(AgentClaims.SiteId)!;
            var list = store.ForSite(site).Where(a => a.Assigned is not null).Select(a =>
            {
                var v = store.Get(a.Assigned!.Name, a.Assigned.Version)!;
                return new AgentModelAssignment(a.AuditoriumId, v.Name, v.Version, v.Sha256, v.Bytes, v.Manifest, $"/api/v1/agent/models/{v.Name}/{v.Version}/file");
            }).ToList();
            var etag = "\"" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("|", list.Select(l => $"{l.AuditoriumId}:{l.Sha256}"))))) [..16] + "\"";
            http.Response.Headers.ETag = etag;
            return http.Request.Headers.IfNoneMatch.Contains(etag) ? Results.StatusCode(StatusCodes.Status304NotModified) : Results.Ok(new { siteId = site, assignments = list });
        });
        agent.MapGet("/{name}/{version}/file", (string name, string version, HttpContext http, ModelVersionStore store) =>
        {
            var site = http.User.FindFirstValue(AgentClaims.SiteId)!;
            // An agent fetches only versions assigned to its site.
            if (!store.ForSite(site).Any(a => a.Assigned is { } m && m.Name == name && m.Version == version)) return NotFound(name, version);
            return File(http, store, name, version);
        });
        agent.MapPost("/status", (ModelRunStatusRequest body, HttpContext http, ModelVersionStore store) =>
        {
            if (!ModelVersionStore.RunStates.Contains(body.State)) return Results.Problem(statusCode: 400, title: "Invalid state", detail: $"state: one of {string.Join(", ", ModelVersionStore.RunStates)}.");
            if (string.IsNullOrWhiteSpace(body.AuditoriumId) || string.IsNullOrWhiteSpace(body.Name) || string.IsNullOrWhiteSpace(body.Version)) return Results.Problem(statusCode: 400, title: "Invalid report", detail: "auditoriumId, name and version are required.");
            store.Report(http.User.FindFirstValue(AgentClaims.SiteId)!, body.AuditoriumId, http.User.FindFirstValue(AgentClaims.AgentId)!, body.Name, body.Version, body.State, body.Message);
            return Results.NoContent();
        });
        return app;
    }

    /// <summary>
    /// Assigns a stored version to an auditorium and writes <c>model.assign</c> to the audit log: the one path for
    /// <c>PUT .../model</c> and the dashboard's models page. Null when the version is not stored.
    /// </summary>
    public static AuditoriumModel? Assign(ModelVersionStore store, AuditLog audit, string siteId, string auditoriumId, string name, string version, string by)
    {
        if (store.Get(name, version) is null) return null;
        store.Assign(siteId, auditoriumId, name, version, by);
        audit.Write(by, "model.assign", $"{siteId}/{auditoriumId}", $"{name} {version}");
        return store.ForSite(siteId).First(a => a.AuditoriumId == auditoriumId);
    }

    private static IResult File(HttpContext http, ModelVersionStore store, string name, string version)
    {
        if (store.FileOf(name, version) is not { } path) return NotFound(name, version);
        var v = store.Get(name, version)!;
        http.Response.Headers["X-Checksum-Sha256"] = v.Sha256;
        return Results.File(path, "application/octet-stream", $"{name}-{version}.onnx", entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue("\"" + v.Sha256 + "\""));
    }

    private static IResult NotFound(string name, string version) =>
        Results.Problem(statusCode: 404, title: "No such model version", detail: $"Model '{name}' version '{version}' is not stored at the centre.");

    private static object Describe(StoredModelVersion v) => new { v.Name, v.Version, v.Sha256, v.Bytes, v.Manifest, v.Card, v.UploadedBy, v.UploadedAt };

    private static IEnumerable<string> ValidateManifest(JsonObject? m)
    {
        if (m is null)
        {
            yield return "manifest: required (the model's models.json entry as JSON).";
            yield break;
        }

        foreach (var key in new[] { "name", "version", "decoder" })
        {
            if (m[key] is not JsonValue v || !v.TryGetValue<string>(out var s) || s.Length == 0) yield return $"manifest.{key}: required.";
            else if (key != "decoder" && !NamePattern().IsMatch(s)) yield return $"manifest.{key}: letters, digits, '.', '_' or '-' (was '{s}').";
        }

        if (m["input"] is not JsonObject) yield return "manifest.input: required (name, shape, colour order, normalisation).";
        if (m["classNames"] is not JsonArray { Count: > 0 }) yield return "manifest.classNames: at least one class.";
    }
}

public sealed record AssignModelRequest(string Name, string Version);

public sealed record ModelRunStatusRequest(string AuditoriumId, string Name, string Version, string State, string? Message);

/// <summary>One auditorium's assigned model as an agent receives it.</summary>
public sealed record AgentModelAssignment(string AuditoriumId, string Name, string Version, string Sha256, long Bytes, JsonObject Manifest, string DownloadUrl);

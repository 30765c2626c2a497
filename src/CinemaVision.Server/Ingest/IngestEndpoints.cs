using System.Security.Claims;
using System.Text.Json;
using CinemaVision.Core.Events;
using CinemaVision.Server.Auth;
using CinemaVision.Server.Configuration;
using CinemaVision.Server.Storage.TimeSeries;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Ingest;

/// <summary>The agent-facing ingest API and the admin endpoints for agent keys.</summary>
public static class IngestEndpoints
{
    public const string RateLimiterPolicy = "ingest";

    public static IEndpointRouteBuilder MapCinemaVisionIngest(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Ingest");
        api.MapPost("/ingest/batches", PostBatch)
            .RequireAuthorization(Policies.Agent)
            .RequireRateLimiting(RateLimiterPolicy)
            .Accepts<IngestBatch>("application/json")
            .Produces<IngestResult>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithName("PostIngestBatch")
            .WithSummary("Stores a batch of observations from an edge agent; all items or none, each item id once.");

        var admin = app.MapGroup("/api/v1/admin/agents").WithTags("Admin").RequireAuthorization(Policies.Admin);
        admin.MapGet("/", (AgentKeyStore keys) => keys.List());
        admin.MapPost("/", (CreateAgentKeyRequest request, AgentKeyStore keys, AuditLog audit, ClaimsPrincipal user) =>
        {
            var errors = new Dictionary<string, string[]>();
            if (string.IsNullOrWhiteSpace(request.AgentId) || request.AgentId.Length > IngestValidator.MaxIdLength)
            {
                errors["agentId"] = ["is required (at most 128 characters)."];
            }

            if (string.IsNullOrWhiteSpace(request.SiteId) || request.SiteId.Length > IngestValidator.MaxIdLength)
            {
                errors["siteId"] = ["is required (at most 128 characters)."];
            }

            if (errors.Count > 0)
            {
                return Results.ValidationProblem(errors);
            }

            var (agent, key) = keys.CreateKey(request.AgentId, request.SiteId, request.DisplayName);
            audit.Write(user.Identity?.Name ?? "?", "agent-key-created", agent.AgentId, agent.SiteId);
            return Results.Ok(new CreatedAgentKey(agent, key));
        }).WithSummary("Registers an agent (or gives it a new key). The key is returned once and stored only as a hash.");
        admin.MapPost("/{agentId}/revoke", (string agentId, AgentKeyStore keys, AuditLog audit, ClaimsPrincipal user) =>
        {
            if (!keys.Revoke(agentId))
            {
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown agent", detail: $"No agent '{agentId}'.");
            }

            audit.Write(user.Identity?.Name ?? "?", "agent-key-revoked", agentId);
            return Results.NoContent();
        });
        return app;
    }

    private static async Task<IResult> PostBatch(HttpContext http, IngestService ingest, IOptions<ServerOptions> options, TimeProvider time, ILogger<IngestService> logger)
    {
        var limits = options.Value.Ingest;
        var agentId = http.User.FindFirstValue(AgentClaims.AgentId)!;
        var siteId = http.User.FindFirstValue(AgentClaims.SiteId)!;
        IResult Reject(int status, string title, string detail, IDictionary<string, object?>? extensions = null)
        {
            IngestLog.BatchRejected(logger, agentId, detail);
            return Results.Problem(statusCode: status, title: title, detail: detail, extensions: extensions);
        }

        if (http.Request.ContentLength > limits.MaxBodyBytes)
        {
            return Reject(StatusCodes.Status413PayloadTooLarge, "Batch too large", $"The body is {http.Request.ContentLength} bytes; the limit is {limits.MaxBodyBytes}. Send smaller batches.");
        }

        byte[] body;
        using (var buffer = new MemoryStream())
        {
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
            {
                if (buffer.Length + read > limits.MaxBodyBytes)
                {
                    return Reject(StatusCodes.Status413PayloadTooLarge, "Batch too large", $"The body exceeds the limit of {limits.MaxBodyBytes} bytes. Send smaller batches.");
                }

                buffer.Write(chunk, 0, read);
            }

            body = buffer.ToArray();
        }

        IngestBatch? batch;
        try
        {
            batch = JsonSerializer.Deserialize<IngestBatch>(body, IngestJson.Options);
        }
        catch (JsonException ex)
        {
            var field = FieldName(ex.Path);
            var where = $"line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}";
            var detail = string.IsNullOrEmpty(field)
                ? $"The body is not valid JSON at {where}: {FirstSentence(ex.Message)}"
                : $"Field '{field}' could not be read at {where}: {FirstSentence(ex.Message)}";
            IngestLog.BatchRejected(logger, agentId, detail);
            var errors = new Dictionary<string, string[]> { [string.IsNullOrEmpty(field) ? "$" : field] = [detail] };
            return Results.ValidationProblem(errors, detail: detail, title: "Malformed batch");
        }
        catch (NotSupportedException ex) when (ex.InnerException is null || ex.Message.Contains("discriminator", StringComparison.Ordinal))
        {
            // An event without its "type" (the abstract event cannot be read without it).
            var detail = $"Every event needs a \"{EdgeEvent.TypeProperty}\" ({string.Join(", ", EventTypes.All)}): {FirstSentence(ex.Message)}";
            IngestLog.BatchRejected(logger, agentId, detail);
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["events"] = [detail] }, detail: detail, title: "Malformed batch");
        }

        if (batch is null)
        {
            return Reject(StatusCodes.Status400BadRequest, "Malformed batch", "The body is the JSON literal null; send an IngestBatch object.");
        }

        // An agent that leaves the list out sends no events, not a broken batch.
        batch = batch with { Events = batch.Events ?? [] };

        if (batch.ItemCount > limits.MaxItemsPerBatch)
        {
            return Reject(StatusCodes.Status413PayloadTooLarge, "Too many items", $"The batch holds {batch.ItemCount} items; the limit is {limits.MaxItemsPerBatch}. Split it.");
        }

        if (!string.Equals(batch.AgentId, agentId, StringComparison.Ordinal))
        {
            return Reject(StatusCodes.Status403Forbidden, "Wrong agent", $"The batch says agentId '{batch.AgentId}' but the API key belongs to agent '{agentId}'.", new Dictionary<string, object?> { ["field"] = "agentId" });
        }

        if (IngestValidator.FindForeignSite(batch, siteId) is { } foreignField)
        {
            return Reject(StatusCodes.Status403Forbidden, "Wrong site", $"Field '{foreignField}' names a site this agent does not belong to (its site is '{siteId}').", new Dictionary<string, object?> { ["field"] = foreignField });
        }

        var validation = IngestValidator.Validate(batch, siteId, time.GetUtcNow());
        if (validation.Count > 0)
        {
            var first = validation.First();
            var detail = $"{validation.Count} field(s) not valid; first: '{first.Key}' {first.Value[0]} Nothing from this batch was stored.";
            IngestLog.BatchRejected(logger, agentId, detail);
            return Results.ValidationProblem(validation, detail: detail, title: "Invalid batch");
        }

        try
        {
            return Results.Ok(await ingest.StoreAsync(batch, http.RequestAborted));
        }
        catch (TimeSeriesStoreException ex)
        {
            IngestLog.StoreFailed(logger, ex, batch.BatchId, agentId);
            http.Response.Headers.RetryAfter = options.Value.Ingest.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Store unavailable", detail: ex.Message + " Nothing from this batch was stored; retry later.");
        }
    }

    /// <summary><c>$.events[3].seatsTotal</c> → <c>events[3].seatsTotal</c>.</summary>
    internal static string FieldName(string? jsonPath) =>
        string.IsNullOrEmpty(jsonPath) || jsonPath == "$" ? string.Empty : jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : jsonPath.TrimStart('$');

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}

public sealed record CreateAgentKeyRequest(string AgentId, string SiteId, string? DisplayName);

public sealed record CreatedAgentKey(AgentRecord Agent, string ApiKey);

using CinemaVision.Server.Auth;

namespace CinemaVision.Server.Evidence;

public static class EvidenceEndpoints
{
    public static IEndpointRouteBuilder MapEvidenceEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/evidence").WithTags("Evidence");

        // Agents upload the snapshot of a suspicion (raw image body, id chosen by the agent and named in the event).
        group.MapPut("/{id}", async (string id, HttpRequest request, EvidenceStore store, CancellationToken ct) =>
        {
            if (!EvidenceStore.IdPattern().IsMatch(id)) return Results.Problem(statusCode: 400, title: "Bad evidence id", detail: "id: letters, digits, '.', '_' or '-', at most 128 characters.");
            var declared = request.ContentType ?? "";
            if (!declared.StartsWith("image/jpeg", StringComparison.OrdinalIgnoreCase) && !declared.StartsWith("image/png", StringComparison.OrdinalIgnoreCase))
            {
                return Results.Problem(statusCode: 415, title: "Unsupported evidence type", detail: $"Content-Type must be image/jpeg or image/png (was '{declared}').");
            }

            if (request.ContentLength is { } length && length > store.Options.MaxBytes)
            {
                return Results.Problem(statusCode: 413, title: "Evidence too large", detail: $"At most {store.Options.MaxBytes} bytes (was {length}).");
            }

            using var buffer = new MemoryStream();
            var body = request.Body;
            var chunk = new byte[81920];
            int read;
            while ((read = await body.ReadAsync(chunk, ct)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > store.Options.MaxBytes) return Results.Problem(statusCode: 413, title: "Evidence too large", detail: $"At most {store.Options.MaxBytes} bytes.");
            }

            var data = buffer.ToArray();
            var image = EvidenceStore.Inspect(data);
            if (image is null) return Results.Problem(statusCode: 400, title: "Not a complete image", detail: "body: the bytes are not a complete JPEG or PNG (wrong type or truncated upload); nothing was stored.");
            if (image.Pixels > store.Options.MaxPixels)
            {
                return Results.Problem(statusCode: 413, title: "Image too large", detail: $"body: {image.Width}x{image.Height} pixels; at most {store.Options.MaxPixels} pixels are accepted. Nothing was stored.");
            }

            var agent = request.HttpContext.User.FindFirst(AgentClaims.AgentId)!.Value;
            var site = request.HttpContext.User.FindFirst(AgentClaims.SiteId)!.Value;
            var saved = store.Save(id, agent, site, data, image.ContentType);
            return saved.Outcome switch
            {
                EvidenceSaveOutcome.Created => Results.Created($"/api/v1/evidence/{id}", new { id, contentType = image.ContentType, bytes = data.LongLength }),
                EvidenceSaveOutcome.AlreadyStored => Results.Ok(new { id, contentType = saved.File!.ContentType, bytes = saved.File.Bytes }),
                _ => Results.Problem(statusCode: 409, title: "Evidence exists", detail: $"Evidence '{id}' was already stored with other content or by another agent; evidence is never overwritten. Use a new id."),
            };
        }).RequireAuthorization(Policies.Agent).DisableAntiforgery();

        // Only signed-in security staff and admins see evidence, and every look is in the audit log (privacy).
        group.MapGet("/{id}", (string id, EvidenceStore store, AuditLog audit, System.Security.Claims.ClaimsPrincipal user) =>
        {
            if (store.TryOpen(id) is not { } file) return Results.Problem(statusCode: 404, title: "No such evidence", detail: $"Evidence '{id}' does not exist or has passed its retention time.");
            audit.Write(user.Identity?.Name ?? "?", "evidence.view", id, file.SiteId);
            return Results.File(file.Path, file.ContentType);
        }).RequireAuthorization(Policies.Security);

        group.MapDelete("/{id}", (string id, EvidenceStore store, AuditLog audit, System.Security.Claims.ClaimsPrincipal user) =>
        {
            if (store.Delete(id) is not { } site) return Results.Problem(statusCode: 404, title: "No such evidence", detail: $"Evidence '{id}' does not exist or has passed its retention time.");
            audit.Write(user.Identity?.Name ?? "?", "evidence.delete", id, site);
            return Results.NoContent();
        }).RequireAuthorization(Policies.Security);
        return app;
    }
}

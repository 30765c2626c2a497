using System.Security.Claims;
using CinemaVision.Core.Alerting;
using CinemaVision.Server.Auth;
using CinemaVision.Server.Evidence;
using CinemaVision.Server.Http;
using CinemaVision.Server.Ingest;
using CinemaVision.Server.Storage;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Alerting;

public sealed record ResolveRequest(string Note);

public sealed record MuteRequest(string? SiteId, string? AuditoriumId, DateTimeOffset From, DateTimeOffset Until, string Reason);

public static class AlertingExtensions
{
    public static IServiceCollection AddAlerting(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AlertingOptions>().Bind(configuration.GetSection(AlertingOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AlertingOptions>, AlertingOptionsValidator>();
        services.AddOptions<EvidenceOptions>().Bind(configuration.GetSection(EvidenceOptions.Section));
        services.AddSingleton<IStateSchema, AlertSchema>();
        services.AddSingleton<IStateSchema, AlertRuleSchema>();
        services.AddSingleton<AlertRuleSettings>();
        services.AddSingleton<IStateSchema, EvidenceSchema>();
        services.AddSingleton<AlertStore>();
        services.AddSingleton<EvidenceStore>();
        services.AddHostedService<EvidenceRetentionService>();
        services.AddSingleton<IAlertFeed, AlertFeed>();
        // The URL carries the robot's key: the client's request logging (which prints it) is removed.
        services.AddHttpClient("webhooks", c => c.Timeout = TimeSpan.FromSeconds(15)).RemoveAllLoggers();
        services.AddSingleton<IStateSchema, AlertChannelSchema>();
        services.AddSingleton<NotificationChannels>();
        services.AddSingleton<AlertEngine>();
        services.AddHostedService(sp => sp.GetRequiredService<AlertEngine>());
        return services;
    }

    public static IEndpointRouteBuilder MapAlertingEndpoints(this IEndpointRouteBuilder app)
    {
        var alerts = app.MapGroup("/api/v1/alerts").WithTags("Alerts");
        alerts.MapGet("/", (AlertStore store, AlertStatus? status) => Results.Ok(store.List(status))).RequireAuthorization(Policies.Viewer);
        alerts.MapGet("/{id}", (string id, AlertStore store) => store.Get(id) is { } a
            ? Results.Ok(new { alert = a, history = store.History(id), attempts = store.Attempts(id) })
            : Results.Problem(statusCode: 404, title: "No such alert", detail: $"Alert '{id}' does not exist.")).RequireAuthorization(Policies.Viewer);
        alerts.MapPost("/{id}/ack", (string id, AlertEngine engine, ClaimsPrincipal user) => Lifecycle(() => engine.Acknowledge(id, user.Identity?.Name ?? "?"))).RequireAuthorization(Policies.Security);
        alerts.MapPost("/{id}/resolve", (string id, ResolveRequest body, AlertEngine engine, ClaimsPrincipal user) =>
            InputRules.TextProblem(body.Note, InputRules.MaxText) is { } bad
                ? Results.ValidationProblem(new Dictionary<string, string[]> { ["note"] = [bad] })
                : Lifecycle(() => engine.Resolve(id, user.Identity?.Name ?? "?", body.Note))).RequireAuthorization(Policies.Security);
        alerts.MapGet("/rules", (AlertEngine engine) => Results.Ok(engine.Rules)).RequireAuthorization(Policies.Viewer);

        // An administrator changes rules at runtime (the dashboard's settings page calls the same service): validated
        // field by field, audit-logged, in force for the next event.
        alerts.MapPut("/rules/{name}", (string name, AlertRuleEdit body, AlertRuleSettings settings, ClaimsPrincipal user) =>
        {
            if (!string.Equals(body.Name, name, StringComparison.Ordinal)) return Results.ValidationProblem(new Dictionary<string, string[]> { ["name"] = [$"must be the name in the path ('{name}')."] }, title: "Invalid rule");
            var problems = settings.Save(body, user.Identity?.Name ?? "?");
            return problems.Count > 0 ? Results.ValidationProblem(problems, title: "Invalid rule") : Results.Ok(settings.Entries.First(e => e.Rule.Name == name));
        }).RequireAuthorization(Policies.Admin);
        alerts.MapDelete("/rules/{name}", (string name, AlertRuleSettings settings, ClaimsPrincipal user) =>
            settings.Revert(name, user.Identity?.Name ?? "?") ? Results.NoContent() : Results.NotFound()).RequireAuthorization(Policies.Admin);

        // Live push for dashboards and wall screens: server-sent events, one JSON alert per event.
        alerts.MapGet("/stream", async (HttpContext http, IAlertFeed feed, CancellationToken ct) =>
        {
            http.Response.ContentType = "text/event-stream";
            using var subscription = feed.Subscribe(out var reader);
            await http.Response.WriteAsync(": connected\n\n", ct);
            await http.Response.Body.FlushAsync(ct);
            await foreach (var alert in reader.ReadAllAsync(ct))
            {
                await http.Response.WriteAsync($"event: alert\ndata: {System.Text.Json.JsonSerializer.Serialize(alert, AlertStore.Json)}\n\n", ct);
                await http.Response.Body.FlushAsync(ct);
            }
        }).RequireAuthorization(Policies.Security);

        var mutes = app.MapGroup("/api/v1/mutes").WithTags("Alerts");
        mutes.MapGet("/", (AlertStore store, TimeProvider time) => Results.Ok(store.ActiveMutes(time.GetUtcNow()))).RequireAuthorization(Policies.Viewer);
        mutes.MapPost("/", (MuteRequest body, AlertStore store, ClaimsPrincipal user, TimeProvider time, IOptions<AlertingOptions> options) =>
        {
            var max = TimeSpan.FromDays(options.Value.MaxMuteDays);
            if (body.Until <= body.From) return Results.Problem(statusCode: 400, title: "Bad mute", detail: "until must be after from.");
            if (body.Until - body.From > max) return Results.Problem(statusCode: 400, title: "Bad mute", detail: $"until: a mute covers at most {options.Value.MaxMuteDays} days (asked {(body.Until - body.From).TotalDays:0.#}); mute again later if needed.");
            if (body.Until <= time.GetUtcNow()) return Results.Problem(statusCode: 400, title: "Bad mute", detail: "until: the window is already over.");
            if (string.IsNullOrWhiteSpace(body.Reason)) return Results.Problem(statusCode: 400, title: "Bad mute", detail: "reason is required.");
            var problems = new Dictionary<string, string[]>();
            if (InputRules.TextProblem(body.Reason, InputRules.MaxShortText) is { } r) problems["reason"] = [r];
            if (body.SiteId is not null && InputRules.IdProblem(body.SiteId) is { } si) problems["siteId"] = [si];
            if (body.AuditoriumId is not null && InputRules.IdProblem(body.AuditoriumId) is { } au) problems["auditoriumId"] = [au];
            if (problems.Count > 0) return Results.ValidationProblem(problems, title: "Bad mute");
            var mute = new AlertMute("mute-" + Guid.NewGuid().ToString("N")[..12], body.SiteId, body.AuditoriumId, body.From, body.Until, body.Reason, user.Identity?.Name ?? "?");
            store.SaveMute(mute);
            return Results.Created($"/api/v1/mutes/{mute.Id}", mute);
        }).RequireAuthorization(Policies.Security);
        mutes.MapDelete("/{id}", (string id, AlertStore store) => store.DeleteMute(id) ? Results.NoContent() : Results.NotFound()).RequireAuthorization(Policies.Security);
        app.MapEvidenceEndpoints();
        return app;
    }

    private static IResult Lifecycle(Func<Alert> action)
    {
        try
        {
            return Results.Ok(action());
        }
        catch (KeyNotFoundException ex)
        {
            return Results.Problem(statusCode: 404, title: "No such alert", detail: ex.Message);
        }
        catch (InvalidOperationException ex)
        {
            return Results.Problem(statusCode: 409, title: "Not allowed now", detail: ex.Message);
        }
        catch (ArgumentException ex)
        {
            return Results.Problem(statusCode: 400, title: "Bad request", detail: ex.Message);
        }
    }
}

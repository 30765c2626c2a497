using System.Text.Json.Serialization;
using CinemaVision.Server.Alerting;
using CinemaVision.Server.Auth;
using CinemaVision.Server.Configuration;
using CinemaVision.Server.Ingest;
using CinemaVision.Server.Storage.TimeSeries;
using Microsoft.Extensions.Options;
using Prometheus;

namespace CinemaVision.Server.Operations;

/// <summary>The health summary: status and the work waiting in each backlog.</summary>
public sealed record HealthReport(
    string Status,
    string TimeSeriesProvider,
    [property: JsonPropertyName("timeSeries")] TimeSeriesHealth TimeSeries,
    [property: JsonPropertyName("alerting")] AlertingHealth Alerting);

/// <param name="Backlog">Events accepted and not yet written to InfluxDB (0 with the embedded store).</param>
/// <param name="OldestSeconds">Age of the oldest of them.</param>
/// <param name="DeadLetters">Events InfluxDB refused for good, set aside (see the admin endpoint).</param>
public sealed record TimeSeriesHealth(string State, long Backlog, long BacklogLimit, double OldestSeconds, long DeadLetters, DateTimeOffset? LastWriteAt, int ConsecutiveFailures);

public sealed record AlertingHealth(long PendingSignals, long PendingSignalsLimit, long PendingNotifications);

/// <summary>
/// <c>/healthz</c> (anonymous, for load balancers and monitoring: 200 while the service accepts events, "Degraded"
/// when InfluxDB is behind or refusing, 503 "Unhealthy" when a backlog is full and agents are being told to wait),
/// <c>/metrics</c> (Prometheus), and the administrator's view with the last error and the dead letters.
/// </summary>
public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthAndMetrics(this IEndpointRouteBuilder app)
    {
        var metrics = app.ServiceProvider.GetRequiredService<ServerMetrics>();
        metrics.Registry.AddBeforeCollectCallback(() =>
        {
            var report = Report(app.ServiceProvider);
            metrics.ForwardBacklog.Set(report.TimeSeries.Backlog);
            metrics.ForwardBacklogLimit.Set(report.TimeSeries.BacklogLimit);
            metrics.ForwardOldest.Set(report.TimeSeries.OldestSeconds);
            metrics.DeadLetters.Set(report.TimeSeries.DeadLetters);
            metrics.SignalsPending.Set(report.Alerting.PendingSignals);
            metrics.NotificationsPending.Set(report.Alerting.PendingNotifications);
            if (report.TimeSeriesProvider == nameof(TimeSeriesProvider.Sqlite))
            {
                metrics.InfluxUp.Set(1);
            }
        });

        app.MapGet("/healthz", (IServiceProvider services) =>
        {
            var report = Report(services);
            return Results.Json(report, statusCode: report.Status == "Unhealthy" ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK);
        }).AllowAnonymous().ExcludeFromDescription();
        app.MapMetrics("/metrics", metrics.Registry).AllowAnonymous();

        var admin = app.MapGroup("/api/v1/admin/timeseries").WithTags("Admin").RequireAuthorization(Policies.Admin);
        admin.MapGet("/", (IServiceProvider services) =>
        {
            var forwarder = Forwarder(services);
            return Results.Ok(new { health = Report(services), forwarder = forwarder?.Status });
        }).WithSummary("The time-series backlog, the forwarder's state and its last error.");
        admin.MapGet("/dead-letters", (int? limit, IServiceProvider services) =>
            Forwarder(services) is { } f ? Results.Ok(f.DeadLetters(Math.Clamp(limit ?? 200, 1, 5000))) : Results.Ok(Array.Empty<DeadLetter>()))
            .WithSummary("Events InfluxDB refused for good, newest first, with its reason.");
        admin.MapPost("/dead-letters/requeue", (IServiceProvider services, AuditLog audit, System.Security.Claims.ClaimsPrincipal user) =>
        {
            if (Forwarder(services) is not { } f) return Results.Ok(new { requeued = 0 });
            var n = f.RequeueDeadLetters();
            audit.Write(user.Identity?.Name ?? "?", "timeseries.requeue-dead-letters", n.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return Results.Ok(new { requeued = n });
        }).WithSummary("Puts the dead letters back in the backlog, after their cause was fixed (e.g. a longer retention policy).");
        return app;
    }

    private static InfluxForwarder? Forwarder(IServiceProvider services) =>
        services.GetRequiredService<IOptions<ServerOptions>>().Value.TimeSeries.Provider == TimeSeriesProvider.Influx ? services.GetRequiredService<InfluxForwarder>() : null;

    public static HealthReport Report(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<ServerOptions>>().Value;
        var backlog = services.GetRequiredService<IngestBacklog>();
        var alerts = services.GetRequiredService<AlertStore>();
        var time = services.GetRequiredService<TimeProvider>();
        var forwarder = Forwarder(services);
        var oldest = forwarder?.OldestPendingAt();
        var status = forwarder?.Status;
        var timeSeries = new TimeSeriesHealth(
            forwarder is null ? "Embedded" : status!.State.ToString(),
            backlog.ForwardPending,
            backlog.MaxForwardBacklog,
            oldest is { } o ? Math.Max(0, (time.GetUtcNow() - o).TotalSeconds) : 0,
            backlog.DeadLetters,
            status?.LastSuccessAt,
            status?.ConsecutiveFailures ?? 0);
        var alerting = new AlertingHealth(backlog.SignalsPending, backlog.MaxPendingSignals, alerts.PendingNotifications());
        var full = backlog.ForwardPending >= backlog.MaxForwardBacklog || backlog.SignalsPending >= backlog.MaxPendingSignals;
        var behind = status is { State: ForwarderState.Retrying or ForwarderState.Misconfigured } || backlog.DeadLetters > 0;
        return new HealthReport(full ? "Unhealthy" : behind ? "Degraded" : "Healthy", options.TimeSeries.Provider.ToString(), timeSeries, alerting);
    }
}

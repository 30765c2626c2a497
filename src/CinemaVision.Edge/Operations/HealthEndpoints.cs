using CinemaVision.Edge.Analysis;
using CinemaVision.Edge.Collection;
using CinemaVision.Edge.Configuration;
using CinemaVision.Edge.Outbox;
using CinemaVision.Edge.Upload;
using Prometheus;

namespace CinemaVision.Edge.Operations;

/// <summary>The agent's local endpoints: <c>/healthz</c> (JSON, 503 when it cannot work) and Prometheus <c>/metrics</c>.</summary>
public static class HealthEndpoints
{
    public static WebApplication MapAgentEndpoints(this WebApplication app)
    {
        app.MapGet("/healthz", (AgentService agent, EventOutbox outbox, Uploader uploader, SiteConfigService config, FrameCollectionService collection, ModelRolloutService models, TimeProvider time) =>
        {
            var stats = outbox.Stats();
            var now = time.GetUtcNow();
            var cameras = agent.Workers.Select(w => new
            {
                id = w.Camera.Id,
                auditoriumId = w.Camera.AuditoriumId,
                state = w.State,
                online = w.MainStatus?.State == Core.Frames.FrameSourceState.Streaming,
                lastError = w.MainStatus?.LastError ?? w.SubStatus?.LastError,
                lastOccupancyAgeSeconds = w.LastOccupancyAgeSeconds,
                collecting = collection.PolicyFor(w.Camera.AuditoriumId).Enabled,
                model = models.Running(w.Camera.AuditoriumId) is { } m ? $"{m.Name} {m.Version}" : null,
            }).ToList();
            bool configured = config.Current is not null;
            var body = new
            {
                status = !configured ? "unconfigured" : cameras.All(c => c.online) && uploader.LastError is null ? "ok" : "degraded",
                version = AgentService.Version,
                configuration = config.Current is { } c ? new { c.SiteId, fromCache = c.FromCache, c.FetchedAt, auditoriums = c.Auditoriums.Count, showings = c.Showings.Count } : null,
                outbox = new { stats.Pending, stats.Bytes, stats.Produced, stats.Sent, stats.Dropped, stats.Rejected, uploadLagSeconds = stats.OldestPending is { } o ? Math.Max(0, (now - o).TotalSeconds) : 0 },
                upload = new { lastSuccess = uploader.LastSuccess, lastError = uploader.LastError },
                frames = new { kept = collection.Kept, uploaded = collection.Uploaded },
                cameras,
            };
            // Not ready without any configuration (never reached the centre, no cache): nothing can be analysed.
            return configured ? Results.Ok(body) : Results.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
        });
        app.MapGet("/metrics", async (HttpContext http, AgentMetrics metrics) =>
        {
            http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await metrics.Registry.CollectAndExportAsTextAsync(http.Response.Body, http.RequestAborted);
        });
        return app;
    }
}

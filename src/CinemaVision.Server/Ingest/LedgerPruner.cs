using CinemaVision.Server.Alerting;
using CinemaVision.Server.Configuration;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Ingest;

/// <summary>
/// Keeps the idempotency ledger (and the alerting engine's processed-signal log) from growing without end: entries
/// older than <see cref="IngestOptions.LedgerRetentionDays"/>, the agents' retry horizon, are removed in small
/// chunks so ingest never waits long behind the clean-up.
/// </summary>
public sealed class LedgerPruner(IngestDatabase db, AlertStore alerts, IOptions<ServerOptions> options, TimeProvider time, ILogger<LedgerPruner> logger) : BackgroundService
{
    private const int Chunk = 5000;

    /// <summary>Removes what is past the horizon now; returns how many ledger entries went.</summary>
    public async Task<long> PruneAsync(CancellationToken cancellationToken)
    {
        var days = options.Value.Ingest.LedgerRetentionDays;
        var before = time.GetUtcNow() - TimeSpan.FromDays(days);
        long removed = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var n = await db.WriteAsync(
                tx =>
                {
                    using var cmd = tx.Connection!.CreateCommand();
                    cmd.Transaction = tx;
                    cmd.CommandText = $"DELETE FROM ingested_items WHERE (agent_id, item_id) IN (SELECT agent_id, item_id FROM ingested_items WHERE stored_at < $t LIMIT {Chunk});";
                    cmd.Parameters.AddWithValue("$t", before.ToUnixTimeMilliseconds());
                    return cmd.ExecuteNonQuery();
                },
                cancellationToken);
            removed += n;
            if (n < Chunk)
            {
                break;
            }
        }

        alerts.PruneSignalLog(before);
        if (removed > 0)
        {
            IngestLog.LedgerPruned(logger, removed, days);
        }

        return removed;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(options.Value.Ingest.LedgerPruneIntervalMinutes), time);
        do
        {
            try
            {
                await PruneAsync(stoppingToken);
            }
            catch (SqliteException ex)
            {
                IngestLog.StoreFailed(logger, ex, "ledger-prune", "-");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}

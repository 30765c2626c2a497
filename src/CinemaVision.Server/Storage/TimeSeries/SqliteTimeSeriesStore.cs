using System.Globalization;
using System.Text.Json;
using CinemaVision.Core.Events;
using CinemaVision.Server.Configuration;
using CinemaVision.Server.Ingest;
using Microsoft.Data.Sqlite;

namespace CinemaVision.Server.Storage.TimeSeries;

/// <summary>
/// The embedded time-series store (the default): tables in the local ingest database (<see cref="IngestDatabase"/>,
/// <c>timeseries.db</c>), so an accepted batch's events are written in the same transaction as its ledger entries
/// and alert signals. Series keys are primary keys that include the item id: a replayed item overwrites itself, two
/// items at the same instant are both kept. Reads open their own connections (WAL lets them run alongside writes).
/// </summary>
public sealed class SqliteTimeSeriesStore : ITimeSeriesStore, IEventSink, IDisposable
{
    private const string AllCameras = "";

    /// <summary>Rows removed per retention step, so a large clean-up never holds the writer for long.</summary>
    private const int RetentionChunk = 5000;

    private readonly IngestDatabase _db;
    private readonly TimeSeriesOptions _options;
    private readonly bool _ownsDatabase;

    public SqliteTimeSeriesStore(IngestDatabase db, TimeSeriesOptions options)
    {
        _db = db;
        _options = options;
    }

    /// <summary>A store over its own file (tools and tests).</summary>
    public SqliteTimeSeriesStore(string path, TimeSeriesOptions options)
        : this(new IngestDatabase(path), options)
    {
        _ownsDatabase = true;
    }

    public Task WriteAsync(IngestBatch batch, CancellationToken cancellationToken)
    {
        try
        {
            _db.Write(tx =>
            {
                Write(tx, batch.Events);
                return 0;
            });
        }
        catch (SqliteException ex)
        {
            throw new TimeSeriesStoreException($"The embedded time-series store could not store batch '{batch.BatchId}': {ex.Message}", ex);
        }

        return Task.CompletedTask;
    }

    /// <summary>Writes the events' rows inside the caller's (ingest) transaction.</summary>
    public void Write(SqliteTransaction tx, IReadOnlyList<EdgeEvent> events)
    {
        var batch = new IngestBatch("-", "-", default, events);
        var (occupancy, seats, anomalies, piracy, cameraHealth, agentHealth) = (batch.Of<OccupancySample>(), batch.Of<SeatStateChange>(), batch.Of<AnomalyEvent>(), batch.Of<PiracySuspicion>(), batch.Of<CameraHealthEvent>(), batch.Of<AgentHealth>());
        if (occupancy.Count > 0)
        {
            using var cmd = Command(tx, "INSERT OR REPLACE INTO occupancy VALUES ($site,$aud,$cam,$ts,$id,$people,$occ,$total,$unknown,$conf,$showing);", "$site", "$aud", "$cam", "$ts", "$id", "$people", "$occ", "$total", "$unknown", "$conf", "$showing");
            foreach (var o in occupancy)
            {
                Run(cmd, o.SiteId, o.AuditoriumId, o.CameraId ?? AllCameras, Ms(o.Timestamp), o.Id, o.People, o.SeatsOccupied, o.SeatsTotal, o.SeatsUnknown, o.Confidence, o.ShowingId);
            }
        }

        if (seats.Count > 0)
        {
            using var cmd = Command(tx, "INSERT OR REPLACE INTO seat_state VALUES ($site,$aud,$seat,$ts,$id,$cam,$state,$conf,$showing);", "$site", "$aud", "$seat", "$ts", "$id", "$cam", "$state", "$conf", "$showing");
            foreach (var s in seats)
            {
                Run(cmd, s.SiteId, s.AuditoriumId, s.SeatId, Ms(s.Timestamp), s.Id, s.CameraId, (int)s.State, s.Confidence, s.ShowingId);
            }
        }

        if (anomalies.Count + piracy.Count + cameraHealth.Count > 0)
        {
            using var cmd = Command(tx, "INSERT OR REPLACE INTO incident VALUES ($site,$aud,$cam,$type,$kind,$inc,$ts,$id,$phase,$start,$conf,$seat,$ev,$detail,$payload);", "$site", "$aud", "$cam", "$type", "$kind", "$inc", "$ts", "$id", "$phase", "$start", "$conf", "$seat", "$ev", "$detail", "$payload");
            foreach (var e in anomalies)
            {
                Run(cmd, e.SiteId, e.AuditoriumId, e.CameraId, IncidentTypes.Anomaly, e.Kind.ToString(), e.IncidentId, Ms(e.Timestamp), e.Id, (int)e.Phase, Ms(e.StartedAt), e.Confidence, e.SeatId, e.EvidenceId, e.Detail, JsonSerializer.Serialize(e, IngestJson.Options));
            }

            foreach (var e in piracy)
            {
                Run(cmd, e.SiteId, e.AuditoriumId, e.CameraId, IncidentTypes.Piracy, e.Device.ToString(), e.IncidentId, Ms(e.Timestamp), e.Id, (int)e.Phase, Ms(e.StartedAt), e.Confidence, e.SeatId, e.EvidenceId, e.Detail, JsonSerializer.Serialize(e, IngestJson.Options));
            }

            foreach (var e in cameraHealth)
            {
                Run(cmd, e.SiteId, e.AuditoriumId, e.CameraId, IncidentTypes.CameraHealth, e.Kind.ToString(), e.IncidentId, Ms(e.Timestamp), e.Id, (int)e.Phase, Ms(e.StartedAt), 1.0, null, null, e.Detail, JsonSerializer.Serialize(e, IngestJson.Options));
            }
        }

        if (agentHealth.Count > 0)
        {
            using var cmd = Command(tx, "INSERT OR REPLACE INTO agent_health VALUES ($site,$agent,$ts,$id,$payload);", "$site", "$agent", "$ts", "$id", "$payload");
            foreach (var h in agentHealth)
            {
                Run(cmd, h.SiteId, h.AgentId, Ms(h.Timestamp), h.Id, JsonSerializer.Serialize(h, IngestJson.Options));
            }
        }
    }

    /// <summary>Nothing to wake: the rows are in place when the transaction commits.</summary>
    public void Committed(int count)
    {
    }

    public Task<IReadOnlyList<OccupancyPoint>> GetOccupancyAsync(string siteId, string auditoriumId, DateTimeOffset from, DateTimeOffset to, OccupancyResolution resolution, CancellationToken cancellationToken)
    {
        var useRollup = resolution == OccupancyResolution.OneMinute
            || (resolution == OccupancyResolution.Auto && from < DateTimeOffset.UtcNow.AddDays(-_options.RawRetentionDays));
        using var connection = Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = useRollup
            ? "SELECT minute * 60000, people, seats_occupied, seats_total, confidence, samples FROM occupancy_1m WHERE site=$site AND auditorium=$aud AND minute >= $from / 60000 AND minute * 60000 < $to ORDER BY minute;"
            : "SELECT ts, people, seats_occupied, seats_total, confidence, 1 FROM occupancy WHERE site=$site AND auditorium=$aud AND camera='' AND ts >= $from AND ts < $to ORDER BY ts;";
        cmd.Parameters.AddWithValue("$site", siteId);
        cmd.Parameters.AddWithValue("$aud", auditoriumId);
        cmd.Parameters.AddWithValue("$from", Ms(from));
        cmd.Parameters.AddWithValue("$to", Ms(to));
        using var reader = cmd.ExecuteReader();
        var points = new List<OccupancyPoint>();
        while (reader.Read())
        {
            points.Add(new OccupancyPoint(FromMs(reader.GetInt64(0)), reader.GetDouble(1), reader.GetDouble(2), reader.GetInt32(3), reader.GetDouble(4), reader.GetInt32(5)));
        }

        return Task.FromResult<IReadOnlyList<OccupancyPoint>>(points);
    }

    public Task<IReadOnlyList<OccupancySample>> GetShowingOccupancyAsync(string siteId, string auditoriumId, string showingId, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<OccupancySample>>(ReadOccupancy("WHERE site=$site AND auditorium=$aud AND camera='' AND showing=$showing ORDER BY ts", siteId, auditoriumId, showingId));

    public Task<IReadOnlyList<OccupancySample>> GetLatestOccupancyAsync(string siteId, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<OccupancySample>>(ReadOccupancy(
            "o WHERE site=$site AND camera='' AND NOT EXISTS (SELECT 1 FROM occupancy i WHERE i.site=o.site AND i.auditorium=o.auditorium AND i.camera='' AND (i.ts > o.ts OR (i.ts = o.ts AND i.id > o.id))) ORDER BY auditorium",
            siteId,
            null,
            null));

    public Task<IReadOnlyList<SeatStateChange>> GetSeatChangesAsync(string siteId, string auditoriumId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<SeatStateChange>>(ReadSeats("WHERE site=$site AND auditorium=$aud AND ts >= $from AND ts < $to ORDER BY ts, seat, id", siteId, auditoriumId, Ms(from), Ms(to)));

    public Task<IReadOnlyDictionary<string, SeatStateChange>> GetSeatStatesAtAsync(string siteId, string auditoriumId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var rows = ReadSeats(
            "s WHERE site=$site AND auditorium=$aud AND ts <= $to AND $from <= ts AND NOT EXISTS (SELECT 1 FROM seat_state i WHERE i.site=s.site AND i.auditorium=s.auditorium AND i.seat=s.seat AND i.ts <= $to AND (i.ts > s.ts OR (i.ts = s.ts AND i.id > s.id)))",
            siteId,
            auditoriumId,
            long.MinValue,
            Ms(at));
        return Task.FromResult<IReadOnlyDictionary<string, SeatStateChange>>(rows.ToDictionary(r => r.SeatId, StringComparer.Ordinal));
    }

    public Task<IReadOnlyList<StoredEvent>> GetEventsAsync(EventQuery query, CancellationToken cancellationToken)
    {
        using var connection = Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = """
            SELECT id, type, kind, incident_id, phase, site, auditorium, camera, started_at, ts, confidence, seat, evidence, detail FROM incident
            WHERE site=$site AND ts >= $from AND ts < $to AND ($aud IS NULL OR auditorium=$aud) AND ($kind IS NULL OR kind=$kind OR type=$kind)
            ORDER BY ts DESC LIMIT $limit;
            """;
        cmd.Parameters.AddWithValue("$site", query.SiteId);
        cmd.Parameters.AddWithValue("$from", Ms(query.From));
        cmd.Parameters.AddWithValue("$to", Ms(query.To));
        cmd.Parameters.AddWithValue("$aud", (object?)query.AuditoriumId ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$kind", (object?)query.Kind ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$limit", query.Limit);
        using var r = cmd.ExecuteReader();
        var events = new List<StoredEvent>();
        while (r.Read())
        {
            events.Add(new StoredEvent(
                r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), (IncidentPhase)r.GetInt32(4), r.GetString(5), r.GetString(6), r.GetString(7),
                FromMs(r.GetInt64(8)), FromMs(r.GetInt64(9)), r.GetDouble(10), NullableString(r, 11), NullableString(r, 12), NullableString(r, 13)));
        }

        return Task.FromResult<IReadOnlyList<StoredEvent>>(events);
    }

    public Task<IReadOnlyList<CameraHealthEvent>> GetCameraHealthAsync(string siteId, string auditoriumId, string? cameraId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        using var connection = Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT payload FROM incident WHERE site=$site AND auditorium=$aud AND type='camera_health' AND ($cam IS NULL OR camera=$cam) AND ts >= $from AND ts < $to ORDER BY ts;";
        cmd.Parameters.AddWithValue("$site", siteId);
        cmd.Parameters.AddWithValue("$aud", auditoriumId);
        cmd.Parameters.AddWithValue("$cam", (object?)cameraId ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$from", Ms(from));
        cmd.Parameters.AddWithValue("$to", Ms(to));
        using var r = cmd.ExecuteReader();
        var events = new List<CameraHealthEvent>();
        while (r.Read())
        {
            events.Add(JsonSerializer.Deserialize<CameraHealthEvent>(r.GetString(0), IngestJson.Options)!);
        }

        return Task.FromResult<IReadOnlyList<CameraHealthEvent>>(events);
    }

    public Task<IReadOnlyList<AgentHealth>> GetLatestAgentHealthAsync(string siteId, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<AgentHealth>>(ReadAgentHealth("h WHERE site=$site AND ts = (SELECT MAX(ts) FROM agent_health i WHERE i.site=h.site AND i.agent=h.agent) ORDER BY agent", siteId, 0, 0));

    public Task<IReadOnlyList<AgentHealth>> GetAgentHealthAsync(string siteId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<AgentHealth>>(ReadAgentHealth("WHERE site=$site AND ts >= $from AND ts < $to ORDER BY ts, agent", siteId, Ms(from), Ms(to)));

    public async Task RunMaintenanceAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var nowMs = Ms(now);
        await _db.WriteAsync(
            tx =>
            {
                long watermark;
                using (var read = Command(tx, "SELECT COALESCE((SELECT value FROM ts_meta WHERE name='rollup_watermark'), 0);"))
                {
                    watermark = Convert.ToInt64(read.ExecuteScalar(), CultureInfo.InvariantCulture);
                }

                // Late samples (an agent's outbox draining after an outage) land in minutes already rolled up, so the
                // window reaches an hour behind the previous run; rebuilding a minute is idempotent.
                var fromMinute = Math.Max(0, watermark - 3_600_000) / 60_000;
                using (var rollup = Command(tx, """
                    INSERT OR REPLACE INTO occupancy_1m
                    SELECT site, auditorium, ts / 60000, AVG(people), AVG(seats_occupied), MAX(seats_total), AVG(confidence), COUNT(*)
                    FROM occupancy WHERE camera='' AND ts >= $from * 60000 AND ts < $now GROUP BY site, auditorium, ts / 60000;
                    INSERT OR REPLACE INTO ts_meta VALUES ('rollup_watermark', $now);
                    """, "$from", "$now"))
                {
                    Run(rollup, fromMinute, nowMs);
                }

                return 0;
            },
            cancellationToken);

        // Retention in chunks, each its own short transaction, so ingest never waits long behind a clean-up.
        var raw = Ms(now.AddDays(-_options.RawRetentionDays));
        var kept = Ms(now.AddDays(-_options.RollupRetentionDays));
        foreach (var (table, key, cutoff) in new[]
        {
            ("occupancy", "site, auditorium, camera, ts, id", raw),
            ("seat_state", "site, auditorium, seat, ts, id", raw),
            ("agent_health", "site, agent, ts, id", raw),
            ("incident", "site, auditorium, camera, type, kind, incident_id, ts, id", kept),
        })
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var removed = await _db.WriteAsync(
                    tx =>
                    {
                        using var cmd = Command(tx, $"DELETE FROM {table} WHERE ({key}) IN (SELECT {key} FROM {table} WHERE ts < $cut LIMIT {RetentionChunk});", "$cut");
                        cmd.Parameters[0].Value = cutoff;
                        return cmd.ExecuteNonQuery();
                    },
                    cancellationToken);
                if (removed < RetentionChunk)
                {
                    break;
                }
            }
        }

        await _db.WriteAsync(
            tx =>
            {
                using var cmd = Command(tx, "DELETE FROM occupancy_1m WHERE minute < $cut / 60000;", "$cut");
                cmd.Parameters[0].Value = kept;
                return cmd.ExecuteNonQuery();
            },
            cancellationToken);
    }

    public void Dispose()
    {
        if (_ownsDatabase)
        {
            _db.Dispose();
        }
    }

    internal static long Ms(DateTimeOffset t) => t.ToUnixTimeMilliseconds();

    internal static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static string? NullableString(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private SqliteConnection Open() => _db.OpenReader();

    private static SqliteCommand Command(SqliteTransaction tx, string sql, params string[] parameters)
    {
        var cmd = tx.Connection!.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var p in parameters)
        {
            cmd.Parameters.Add(new SqliteParameter { ParameterName = p });
        }

        return cmd;
    }

    private static void Run(SqliteCommand cmd, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            cmd.Parameters[i].Value = values[i] ?? DBNull.Value;
        }

        cmd.ExecuteNonQuery();
    }

    private List<OccupancySample> ReadOccupancy(string where, string siteId, string? auditoriumId, string? showingId)
    {
        using var connection = Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT id, site, auditorium, camera, ts, people, seats_occupied, seats_total, seats_unknown, confidence, showing FROM occupancy " + where + ";";
        cmd.Parameters.AddWithValue("$site", siteId);
        cmd.Parameters.AddWithValue("$aud", (object?)auditoriumId ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$showing", (object?)showingId ?? DBNull.Value);
        using var r = cmd.ExecuteReader();
        var samples = new List<OccupancySample>();
        while (r.Read())
        {
            var camera = r.GetString(3);
            samples.Add(new OccupancySample(r.GetString(0), r.GetString(1), r.GetString(2), camera.Length == 0 ? null : camera, FromMs(r.GetInt64(4)), r.GetInt32(5), r.GetInt32(6), r.GetInt32(7), r.GetInt32(8), r.GetDouble(9), NullableString(r, 10)));
        }

        return samples;
    }

    private List<AgentHealth> ReadAgentHealth(string where, string siteId, long from, long to)
    {
        using var connection = Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT payload FROM agent_health " + where + ";";
        cmd.Parameters.AddWithValue("$site", siteId);
        cmd.Parameters.AddWithValue("$from", from);
        cmd.Parameters.AddWithValue("$to", to);
        using var r = cmd.ExecuteReader();
        var list = new List<AgentHealth>();
        while (r.Read()) list.Add(JsonSerializer.Deserialize<AgentHealth>(r.GetString(0), IngestJson.Options)!);
        return list;
    }

    private List<SeatStateChange> ReadSeats(string where, string siteId, string auditoriumId, long from, long to)
    {
        using var connection = Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT id, site, auditorium, camera, seat, ts, state, confidence, showing FROM seat_state " + where + ";";
        cmd.Parameters.AddWithValue("$site", siteId);
        cmd.Parameters.AddWithValue("$aud", auditoriumId);
        cmd.Parameters.AddWithValue("$from", from);
        cmd.Parameters.AddWithValue("$to", to);
        using var r = cmd.ExecuteReader();
        var seats = new List<SeatStateChange>();
        while (r.Read())
        {
            seats.Add(new SeatStateChange(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), FromMs(r.GetInt64(5)), (SeatState)r.GetInt32(6), r.GetDouble(7), NullableString(r, 8)));
        }

        return seats;
    }
}

/// <summary>The incident families stored side by side.</summary>
public static class IncidentTypes
{
    public const string Anomaly = "anomaly";
    public const string Piracy = "piracy";
    public const string CameraHealth = "camera_health";
}

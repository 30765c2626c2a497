using System.Globalization;
using System.Text.Json;
using CinemaVision.Core.Events;
using CinemaVision.Server.Configuration;
using Microsoft.Data.Sqlite;

namespace CinemaVision.Server.Storage.TimeSeries;

/// <summary>
/// The embedded time-series store (the default): one SQLite file beside the state database. Series keys are primary
/// keys, so a replayed item overwrites itself exactly like an InfluxDB point with the same series and time.
/// Writes go through one connection (SQLite has one writer anyway); reads open their own (WAL lets them run alongside).
/// </summary>
public sealed class SqliteTimeSeriesStore : ITimeSeriesStore, IDisposable
{
    private const string AllCameras = "";
    private readonly string _connectionString;
    private readonly TimeSeriesOptions _options;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private SqliteConnection? _writer;

    public SqliteTimeSeriesStore(string path, TimeSeriesOptions options)
    {
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        _options = options;
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE IF NOT EXISTS occupancy (
                site TEXT NOT NULL, auditorium TEXT NOT NULL, camera TEXT NOT NULL, ts INTEGER NOT NULL,
                id TEXT NOT NULL, people INTEGER NOT NULL, seats_occupied INTEGER NOT NULL, seats_total INTEGER NOT NULL,
                seats_unknown INTEGER NOT NULL, confidence REAL NOT NULL, showing TEXT NULL,
                PRIMARY KEY (site, auditorium, camera, ts)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS ix_occupancy_showing ON occupancy(showing) WHERE showing IS NOT NULL;
            CREATE TABLE IF NOT EXISTS occupancy_1m (
                site TEXT NOT NULL, auditorium TEXT NOT NULL, minute INTEGER NOT NULL,
                people REAL NOT NULL, seats_occupied REAL NOT NULL, seats_total INTEGER NOT NULL, confidence REAL NOT NULL, samples INTEGER NOT NULL,
                PRIMARY KEY (site, auditorium, minute)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS seat_state (
                site TEXT NOT NULL, auditorium TEXT NOT NULL, seat TEXT NOT NULL, ts INTEGER NOT NULL,
                id TEXT NOT NULL, camera TEXT NOT NULL, state INTEGER NOT NULL, confidence REAL NOT NULL, showing TEXT NULL,
                PRIMARY KEY (site, auditorium, seat, ts)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS incident (
                site TEXT NOT NULL, auditorium TEXT NOT NULL, camera TEXT NOT NULL, type TEXT NOT NULL, kind TEXT NOT NULL,
                incident_id TEXT NOT NULL, ts INTEGER NOT NULL, id TEXT NOT NULL, phase INTEGER NOT NULL, started_at INTEGER NOT NULL,
                confidence REAL NOT NULL, seat TEXT NULL, evidence TEXT NULL, detail TEXT NULL, payload TEXT NOT NULL,
                PRIMARY KEY (site, auditorium, camera, type, kind, incident_id, ts)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS ix_incident_time ON incident(site, ts);
            CREATE TABLE IF NOT EXISTS agent_health (
                site TEXT NOT NULL, agent TEXT NOT NULL, ts INTEGER NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL,
                PRIMARY KEY (site, agent, ts)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS ts_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            """;
        command.ExecuteNonQuery();
    }

    public async Task WriteAsync(IngestBatch batch, CancellationToken cancellationToken)
    {
        var (occupancy, seats, anomalies, piracy, cameraHealth, agentHealth) = (batch.Of<OccupancySample>(), batch.Of<SeatStateChange>(), batch.Of<AnomalyEvent>(), batch.Of<PiracySuspicion>(), batch.Of<CameraHealthEvent>(), batch.Of<AgentHealth>());
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            _writer ??= Open();
            using var tx = _writer.BeginTransaction();
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

            tx.Commit();
        }
        catch (SqliteException ex)
        {
            // A broken write connection is reopened on the next batch.
            _writer?.Dispose();
            _writer = null;
            throw new TimeSeriesStoreException($"The embedded time-series store could not store batch '{batch.BatchId}': {ex.Message}", ex);
        }
        finally
        {
            _writeLock.Release();
        }
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
            "o WHERE site=$site AND camera='' AND ts = (SELECT MAX(ts) FROM occupancy i WHERE i.site=o.site AND i.auditorium=o.auditorium AND i.camera='') ORDER BY auditorium",
            siteId,
            null,
            null));

    public Task<IReadOnlyList<SeatStateChange>> GetSeatChangesAsync(string siteId, string auditoriumId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<SeatStateChange>>(ReadSeats("WHERE site=$site AND auditorium=$aud AND ts >= $from AND ts < $to ORDER BY ts, seat", siteId, auditoriumId, Ms(from), Ms(to)));

    public Task<IReadOnlyDictionary<string, SeatStateChange>> GetSeatStatesAtAsync(string siteId, string auditoriumId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var rows = ReadSeats(
            "s WHERE site=$site AND auditorium=$aud AND ts = (SELECT MAX(ts) FROM seat_state i WHERE i.site=s.site AND i.auditorium=s.auditorium AND i.seat=s.seat AND i.ts <= $to) AND $from <= ts",
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
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            _writer ??= Open();
            using var tx = _writer.BeginTransaction();
            long watermark;
            using (var read = Command(tx, "SELECT COALESCE((SELECT value FROM ts_meta WHERE name='rollup_watermark'), 0);"))
            {
                watermark = Convert.ToInt64(read.ExecuteScalar(), CultureInfo.InvariantCulture);
            }

            // Late samples (an agent's outbox draining after an outage) land in minutes already rolled up, so the
            // window reaches an hour behind the previous run; rebuilding a minute is idempotent.
            var fromMinute = Math.Max(0, watermark - 3_600_000) / 60_000;
            var nowMs = Ms(now);
            using (var rollup = Command(tx, """
                INSERT OR REPLACE INTO occupancy_1m
                SELECT site, auditorium, ts / 60000, AVG(people), AVG(seats_occupied), MAX(seats_total), AVG(confidence), COUNT(*)
                FROM occupancy WHERE camera='' AND ts >= $from * 60000 AND ts < $now GROUP BY site, auditorium, ts / 60000;
                """, "$from", "$now"))
            {
                Run(rollup, fromMinute, nowMs);
            }

            using (var cleanup = Command(tx, """
                DELETE FROM occupancy WHERE ts < $raw;
                DELETE FROM seat_state WHERE ts < $raw;
                DELETE FROM agent_health WHERE ts < $raw;
                DELETE FROM incident WHERE ts < $rollup;
                DELETE FROM occupancy_1m WHERE minute < $rollup / 60000;
                INSERT OR REPLACE INTO ts_meta VALUES ('rollup_watermark', $now);
                """, "$raw", "$rollup", "$now"))
            {
                Run(cleanup, Ms(now.AddDays(-_options.RawRetentionDays)), Ms(now.AddDays(-_options.RollupRetentionDays)), nowMs);
            }

            tx.Commit();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public void Dispose()
    {
        _writer?.Dispose();
        _writeLock.Dispose();
    }

    internal static long Ms(DateTimeOffset t) => t.ToUnixTimeMilliseconds();

    internal static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static string? NullableString(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;";
        pragma.ExecuteNonQuery();
        return connection;
    }

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

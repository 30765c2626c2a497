using System.Text.Json;
using CinemaVision.Core.Collection;
using CinemaVision.Server.Configuration;
using CinemaVision.Server.Ingest;
using CinemaVision.Server.Storage;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Collection;

public sealed class FrameCollectionOptions
{
    public const string Section = "CinemaVision:FrameCollection";

    /// <summary>Frames older than this are deleted at the centre (an auditorium's own, shorter retention applies too).</summary>
    public double RetentionDays { get; set; } = 30;

    /// <summary>The centre's store of collected frames never grows beyond this; the oldest go first.</summary>
    public long MaxBytes { get; set; } = 4L * 1024 * 1024 * 1024;

    /// <summary>Largest accepted frame.</summary>
    public int MaxFrameBytes { get; set; } = 8 * 1024 * 1024;

    public double CleanupIntervalMinutes { get; set; } = 60;
}

public sealed class CollectionSchema : IStateSchema
{
    public string Name => "frame-collection";

    public string CreateSql => """
        CREATE TABLE IF NOT EXISTS collected_frames (
            id TEXT PRIMARY KEY,
            site_id TEXT NOT NULL,
            agent_id TEXT NOT NULL,
            auditorium_id TEXT NOT NULL,
            camera_id TEXT NOT NULL,
            captured_at INTEGER NOT NULL,
            received_at INTEGER NOT NULL,
            reasons TEXT NOT NULL,
            event_kind TEXT,
            uncertainty REAL NOT NULL,
            bytes INTEGER NOT NULL,
            meta TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS ix_collected_frames_time ON collected_frames(site_id, auditorium_id, captured_at);
        CREATE TABLE IF NOT EXISTS collection_settings (
            site_id TEXT NOT NULL,
            auditorium_id TEXT NOT NULL,
            policy TEXT NOT NULL,
            updated_by TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (site_id, auditorium_id));
        """;
}

/// <summary>A query over collected frames.</summary>
public sealed record FrameQuery(string? SiteId, string? AuditoriumId, DateTimeOffset? From, DateTimeOffset? To, string? Reason, string? EventKind, double? MinUncertainty, int Limit = 500);

/// <summary>
/// Frames agents kept for retraining: JPEG files under the data folder's <c>frames/</c>, their metadata in SQLite.
/// Only signed-in data-team members and admins list or fetch them (every access is audit-logged by the endpoints);
/// the retention time and the size cap are applied periodically.
/// </summary>
public sealed class CollectedFrameStore
{
    private readonly StateDatabase _db;
    private readonly TimeProvider _time;
    private readonly string _folder;

    public CollectedFrameStore(StateDatabase db, IOptions<ServerOptions> server, IOptions<FrameCollectionOptions> options, TimeProvider time)
    {
        _db = db;
        _time = time;
        Options = options.Value;
        _folder = Path.Combine(Path.GetFullPath(server.Value.DataDirectory), "frames");
        Directory.CreateDirectory(_folder);
    }

    public FrameCollectionOptions Options { get; }

    /// <summary>Stores a frame; a second upload of the same id is accepted and changes nothing (agents retry).</summary>
    public (CollectedFrameInfo Frame, bool Created) Save(CollectedFrameMeta meta, string siteId, string agentId, byte[] jpeg)
    {
        if (Get(meta.Id) is { } existing) return (existing, false);
        var path = PathOf(meta.Id);
        var tmp = path + ".partial";
        File.WriteAllBytes(tmp, jpeg);
        File.Move(tmp, path, overwrite: true);
        var now = _time.GetUtcNow();
        using var c = _db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            INSERT OR IGNORE INTO collected_frames (id, site_id, agent_id, auditorium_id, camera_id, captured_at, received_at, reasons, event_kind, uncertainty, bytes, meta)
            VALUES ($id, $site, $agent, $aud, $cam, $cap, $rec, $reasons, $kind, $unc, $bytes, $meta)
            """;
        cmd.Parameters.AddWithValue("$id", meta.Id);
        cmd.Parameters.AddWithValue("$site", siteId);
        cmd.Parameters.AddWithValue("$agent", agentId);
        cmd.Parameters.AddWithValue("$aud", meta.AuditoriumId);
        cmd.Parameters.AddWithValue("$cam", meta.CameraId);
        cmd.Parameters.AddWithValue("$cap", meta.CapturedAt.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$rec", now.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$reasons", "," + string.Join(",", meta.Reasons) + ",");
        cmd.Parameters.AddWithValue("$kind", (object?)meta.EventKind ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$unc", meta.Uncertainty);
        cmd.Parameters.AddWithValue("$bytes", jpeg.LongLength);
        cmd.Parameters.AddWithValue("$meta", JsonSerializer.Serialize(meta, IngestJson.Options));
        cmd.ExecuteNonQuery();
        return (new CollectedFrameInfo { Meta = meta, SiteId = siteId, AgentId = agentId, Bytes = jpeg.LongLength, ReceivedAt = now }, true);
    }

    public IReadOnlyList<CollectedFrameInfo> List(FrameQuery q)
    {
        using var c = _db.Open();
        using var cmd = c.CreateCommand();
        var where = new List<string>();
        void Add(string clause, string name, object value)
        {
            where.Add(clause);
            cmd.Parameters.AddWithValue(name, value);
        }

        if (q.SiteId is { } s) Add("site_id = $site", "$site", s);
        if (q.AuditoriumId is { } a) Add("auditorium_id = $aud", "$aud", a);
        if (q.From is { } f) Add("captured_at >= $from", "$from", f.ToUnixTimeMilliseconds());
        if (q.To is { } t) Add("captured_at < $to", "$to", t.ToUnixTimeMilliseconds());
        if (q.Reason is { } r) Add("reasons LIKE $reason", "$reason", "%," + r + ",%");
        if (q.EventKind is { } k) Add("event_kind = $kind", "$kind", k);
        if (q.MinUncertainty is { } u) Add("uncertainty >= $unc", "$unc", u);
        cmd.CommandText = "SELECT meta, site_id, agent_id, bytes, received_at FROM collected_frames"
            + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")
            + " ORDER BY captured_at, id LIMIT $limit";
        cmd.Parameters.AddWithValue("$limit", Math.Clamp(q.Limit, 1, 10_000));
        using var reader = cmd.ExecuteReader();
        var list = new List<CollectedFrameInfo>();
        while (reader.Read()) list.Add(Read(reader));
        return list;
    }

    public CollectedFrameInfo? Get(string id)
    {
        using var c = _db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT meta, site_id, agent_id, bytes, received_at FROM collected_frames WHERE id = $id";
        cmd.Parameters.AddWithValue("$id", id);
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? Read(reader) : null;
    }

    public string? FileOf(string id) => File.Exists(PathOf(id)) && Get(id) is not null ? PathOf(id) : null;

    public bool Delete(string id)
    {
        using var c = _db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "DELETE FROM collected_frames WHERE id = $id";
        cmd.Parameters.AddWithValue("$id", id);
        bool existed = cmd.ExecuteNonQuery() > 0;
        if (File.Exists(PathOf(id)))
        {
            File.Delete(PathOf(id));
            existed = true;
        }

        return existed;
    }

    /// <summary>Applies the retention time and the size cap (Core's <see cref="FrameRetention"/>); returns how many frames went.</summary>
    public int Prune()
    {
        var frames = new List<StoredFrame>();
        using (var c = _db.Open())
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT id, captured_at, bytes FROM collected_frames";
            using var r = cmd.ExecuteReader();
            while (r.Read()) frames.Add(new StoredFrame(r.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), r.GetInt64(2)));
        }

        var doomed = FrameRetention.ToDelete(frames, _time.GetUtcNow(), Options.RetentionDays, Options.MaxBytes);
        foreach (var id in doomed) Delete(id);
        return doomed.Count;
    }

    private static CollectedFrameInfo Read(Microsoft.Data.Sqlite.SqliteDataReader r) => new()
    {
        Meta = JsonSerializer.Deserialize<CollectedFrameMeta>(r.GetString(0), IngestJson.Options)!,
        SiteId = r.GetString(1),
        AgentId = r.GetString(2),
        Bytes = r.GetInt64(3),
        ReceivedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)),
    };

    private string PathOf(string id) => Path.Combine(_folder, id + ".jpg");
}

/// <summary>Per-auditorium collection settings (off unless set, and set only by an admin or the data team).</summary>
public sealed class CollectionSettingsStore(StateDatabase db, TimeProvider time)
{
    public void Save(string siteId, string auditoriumId, FrameCollectionPolicy policy, string by)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "INSERT OR REPLACE INTO collection_settings (site_id, auditorium_id, policy, updated_by, updated_at) VALUES ($s, $a, $p, $by, $at)";
        cmd.Parameters.AddWithValue("$s", siteId);
        cmd.Parameters.AddWithValue("$a", auditoriumId);
        cmd.Parameters.AddWithValue("$p", JsonSerializer.Serialize(policy, IngestJson.Options));
        cmd.Parameters.AddWithValue("$by", by);
        cmd.Parameters.AddWithValue("$at", time.GetUtcNow().ToUnixTimeMilliseconds());
        cmd.ExecuteNonQuery();
    }

    /// <summary>The site's settings by auditorium; an auditorium not listed collects nothing.</summary>
    public IReadOnlyDictionary<string, FrameCollectionPolicy> ForSite(string siteId)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT auditorium_id, policy FROM collection_settings WHERE site_id = $s ORDER BY auditorium_id";
        cmd.Parameters.AddWithValue("$s", siteId);
        using var r = cmd.ExecuteReader();
        var result = new Dictionary<string, FrameCollectionPolicy>(StringComparer.Ordinal);
        while (r.Read()) result[r.GetString(0)] = JsonSerializer.Deserialize<FrameCollectionPolicy>(r.GetString(1), IngestJson.Options)!;
        return result;
    }

    public FrameCollectionPolicy For(string siteId, string auditoriumId) =>
        ForSite(siteId).TryGetValue(auditoriumId, out var p) ? p : new FrameCollectionPolicy();
}

/// <summary>Applies the retention time and size cap of collected frames periodically.</summary>
public sealed class CollectedFrameRetentionService(CollectedFrameStore store, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(Math.Max(1, store.Options.CleanupIntervalMinutes)), time);
        do
        {
            store.Prune();
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}

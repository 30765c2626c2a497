using System.Globalization;
using System.Threading.Channels;
using CinemaVision.Core.Events;
using CinemaVision.Edge.Configuration;
using Microsoft.Data.Sqlite;

namespace CinemaVision.Edge.Outbox;

/// <summary>An event waiting in the outbox.</summary>
public sealed record PendingEvent(long Seq, string Id, string Type, string Body, string? EvidenceId, DateTimeOffset At);

/// <summary>What the outbox holds (heartbeat, /metrics, /healthz).</summary>
public sealed record OutboxStats(long Pending, long Bytes, DateTimeOffset? OldestPending, long Produced, long Sent, long Dropped, long Rejected, long EvidencePending);

/// <summary>
/// The durable outbox: every event is written here (SQLite, WAL, synchronous=FULL: on disk when the commit returns)
/// before it counts as produced, and stays until the centre answered 2xx for it. Evidence crops are written in the
/// same transaction as the suspicion naming them, and uploaded first. Disk use is bounded: sent events go first, then
/// the oldest occupancy samples and heartbeats (counted as dropped), never incidents or seat changes. A file that is
/// not a healthy database is set aside (renamed, with a clear log line) and a fresh one started, so a corrupt disk
/// sector never stops the agent. Thread-safe.
/// </summary>
public sealed partial class EventOutbox : IDisposable
{
    public const string FileName = "outbox.db";
    private readonly object _gate = new();
    private readonly OutboxLimits _limits;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<bool> _added = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private SqliteConnection _db;
    private long _bytes;
    private DateTimeOffset _lastFullWarning = DateTimeOffset.MinValue;

    public EventOutbox(string directory, OutboxLimits limits, TimeProvider time, ILogger<EventOutbox> logger)
    {
        _limits = limits;
        _time = time;
        _logger = logger;
        Directory.CreateDirectory(directory);
        Path = System.IO.Path.Combine(directory, FileName);
        _db = OpenOrSetAside(Path);
        _bytes = Scalar("SELECT COALESCE(SUM(bytes), 0) FROM events") + Scalar("SELECT COALESCE(SUM(bytes), 0) FROM evidence");
    }

    public string Path { get; }

    /// <summary>Set when a corrupt file was set aside at start (the path it was moved to).</summary>
    public string? SetAside { get; private set; }

    /// <summary>Readable when events were added (the uploader waits on it).</summary>
    public ChannelReader<bool> Added => _added.Reader;

    /// <summary>
    /// Writes events (and the evidence they name) in one durable transaction. An id already in the outbox is kept
    /// once. Returns how many were new. Once this returns, the events survive a crash or a power cut.
    /// </summary>
    public int Add(IReadOnlyList<EdgeEvent> events, IReadOnlyDictionary<string, byte[]>? evidence = null)
    {
        if (events.Count == 0 && (evidence is null || evidence.Count == 0)) return 0;
        int added = 0;
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            if (evidence is not null)
            {
                using var ev = Command(tx, "INSERT OR IGNORE INTO evidence(id, jpeg, bytes, uploaded) VALUES ($id, $jpeg, $bytes, NULL)");
                foreach (var (id, jpeg) in evidence)
                {
                    ev.Parameters["$id"].Value = id;
                    ev.Parameters["$jpeg"].Value = jpeg;
                    ev.Parameters["$bytes"].Value = jpeg.Length;
                    if (ev.ExecuteNonQuery() == 1) _bytes += jpeg.Length;
                }
            }

            using var insert = Command(tx, "INSERT OR IGNORE INTO events(id, type, droppable, at, created, body, bytes, evidence_id, state) VALUES ($id, $type, $droppable, $at, $created, $body, $bytes, $evidence, 0)");
            long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            foreach (var e in events)
            {
                var body = IngestJson.Serialize(e);
                insert.Parameters["$id"].Value = e.Id;
                insert.Parameters["$type"].Value = e.Type;
                insert.Parameters["$droppable"].Value = IsDroppable(e) ? 1 : 0;
                insert.Parameters["$at"].Value = e.Timestamp.ToUnixTimeMilliseconds();
                insert.Parameters["$created"].Value = now;
                insert.Parameters["$body"].Value = body;
                insert.Parameters["$bytes"].Value = body.Length;
                insert.Parameters["$evidence"].Value = EvidenceOf(e) is { } id ? id : DBNull.Value;
                if (insert.ExecuteNonQuery() == 1)
                {
                    added++;
                    _bytes += body.Length;
                }
            }

            Bump(tx, "produced", added);
            if (_bytes > _limits.MaxBytes) MakeRoom(tx);
            tx.Commit();
        }

        if (added > 0) _added.Writer.TryWrite(true);
        return added;
    }

    /// <summary>Occupancy samples and heartbeats are periodic figures: under disk pressure the oldest may go. Incidents and seat changes never.</summary>
    public static bool IsDroppable(EdgeEvent e) => e is OccupancySample or AgentHealth;

    private static string? EvidenceOf(EdgeEvent e) => e switch
    {
        PiracySuspicion p => p.EvidenceId,
        AnomalyEvent a => a.EvidenceId,
        _ => null,
    };

    /// <summary>The oldest pending events: incidents and seat changes first, then samples and heartbeats.</summary>
    public IReadOnlyList<PendingEvent> Pending(int max)
    {
        lock (_gate)
        {
            using var cmd = Command(null, "SELECT seq, id, type, body, evidence_id, at FROM events WHERE state = 0 ORDER BY droppable, seq LIMIT $max");
            cmd.Parameters["$max"].Value = max;
            using var r = cmd.ExecuteReader();
            var list = new List<PendingEvent>();
            while (r.Read()) list.Add(new PendingEvent(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5))));
            return list;
        }
    }

    /// <summary>Evidence not yet uploaded, by id (only those asked for).</summary>
    public IReadOnlyDictionary<string, byte[]> EvidenceToUpload(IEnumerable<string> ids)
    {
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        lock (_gate)
        {
            using var cmd = Command(null, "SELECT jpeg FROM evidence WHERE id = $id AND uploaded IS NULL");
            foreach (var id in ids.Distinct(StringComparer.Ordinal))
            {
                cmd.Parameters["$id"].Value = id;
                if (cmd.ExecuteScalar() is byte[] jpeg) result[id] = jpeg;
            }
        }

        return result;
    }

    public void MarkEvidenceUploaded(string id)
    {
        lock (_gate)
        {
            using var cmd = Command(null, "UPDATE evidence SET uploaded = $now WHERE id = $id");
            cmd.Parameters["$now"].Value = _time.GetUtcNow().ToUnixTimeMilliseconds();
            cmd.Parameters["$id"].Value = id;
            cmd.ExecuteNonQuery();
        }
    }

    /// <summary>The centre answered 2xx for these events: they are sent (and the evidence they named is deleted here).</summary>
    public void MarkSent(IReadOnlyCollection<long> seqs)
    {
        if (seqs.Count == 0) return;
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            using var mark = Command(tx, "UPDATE events SET state = 1, sent = $now WHERE seq = $seq AND state = 0");
            mark.Parameters["$now"].Value = _time.GetUtcNow().ToUnixTimeMilliseconds();
            int n = 0;
            foreach (var seq in seqs)
            {
                mark.Parameters["$seq"].Value = seq;
                n += mark.ExecuteNonQuery();
            }

            Bump(tx, "sent", n);
            // Privacy: a crop leaves the agent once; it is not kept here after the centre has it and the event naming it.
            using (var purge = Command(tx, "DELETE FROM evidence WHERE uploaded IS NOT NULL AND id NOT IN (SELECT evidence_id FROM events WHERE state = 0 AND evidence_id IS NOT NULL) RETURNING bytes"))
            using (var r = purge.ExecuteReader())
            {
                while (r.Read()) _bytes -= r.GetInt64(0);
            }

            tx.Commit();
        }
    }

    /// <summary>The centre refused this event for good (400 naming it): kept aside with the reason, not retried.</summary>
    public void MarkRejected(long seq, string reason)
    {
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            using var cmd = Command(tx, "UPDATE events SET state = 2, sent = $now, problem = $problem WHERE seq = $seq AND state = 0");
            cmd.Parameters["$now"].Value = _time.GetUtcNow().ToUnixTimeMilliseconds();
            cmd.Parameters["$problem"].Value = reason.Length > 1000 ? reason[..1000] : reason;
            cmd.Parameters["$seq"].Value = seq;
            Bump(tx, "rejected", cmd.ExecuteNonQuery());
            tx.Commit();
        }
    }

    /// <summary>Removes sent events past their retention.</summary>
    public int PruneSent()
    {
        lock (_gate)
        {
            using var cmd = Command(null, "DELETE FROM events WHERE state = 1 AND sent < $before RETURNING bytes");
            cmd.Parameters["$before"].Value = (_time.GetUtcNow() - _limits.SentRetention).ToUnixTimeMilliseconds();
            int n = 0;
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                _bytes -= r.GetInt64(0);
                n++;
            }

            return n;
        }
    }

    public OutboxStats Stats()
    {
        lock (_gate)
        {
            long pending = Scalar("SELECT COUNT(*) FROM events WHERE state = 0");
            long oldest = Scalar("SELECT COALESCE(MIN(at), 0) FROM events WHERE state = 0");
            return new OutboxStats(pending, _bytes, pending == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(oldest), Meta("produced"), Meta("sent"), Meta("dropped"), Meta("rejected"),
                Scalar("SELECT COUNT(*) FROM evidence WHERE uploaded IS NULL"));
        }
    }

    /// <summary>Over the bound: sent events go first (the centre has them), then the oldest droppable pending ones.</summary>
    private void MakeRoom(SqliteTransaction tx)
    {
        long excess = _bytes - _limits.MaxBytes;
        foreach (var (sql, counter) in new[]
        {
            ("DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE state <> 0 ORDER BY seq LIMIT 500) RETURNING bytes", (string?)null),
            ("DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE state = 0 AND droppable = 1 ORDER BY seq LIMIT 500) RETURNING bytes", "dropped"),
        })
        {
            while (excess > 0)
            {
                using var cmd = Command(tx, sql);
                long freed = 0;
                int rows = 0;
                using (var r = cmd.ExecuteReader())
                {
                    while (r.Read())
                    {
                        freed += r.GetInt64(0);
                        rows++;
                    }
                }

                if (rows == 0) break;
                _bytes -= freed;
                excess -= freed;
                if (counter is not null) Bump(tx, counter, rows);
            }
        }

        if (_bytes > _limits.MaxBytes && _time.GetUtcNow() - _lastFullWarning > TimeSpan.FromMinutes(1))
        {
            _lastFullWarning = _time.GetUtcNow();
            LogFullOfIncidents(_logger, _bytes, _limits.MaxBytes);
        }
    }

    private SqliteConnection OpenOrSetAside(string path)
    {
        try
        {
            return Open(path);
        }
        catch (Exception ex) when (ex is SqliteException or InvalidDataException)
        {
            SqliteConnection.ClearAllPools();
            var aside = string.Create(CultureInfo.InvariantCulture, $"{path}.corrupt-{_time.GetUtcNow():yyyyMMdd'T'HHmmss'Z'}");
            foreach (var suffix in new[] { "", "-wal", "-shm" })
            {
                if (File.Exists(path + suffix)) File.Move(path + suffix, aside + suffix, overwrite: true);
            }

            SetAside = aside;
            LogSetAside(_logger, path, aside, ex.Message);
            return Open(path);
        }
    }

    private static SqliteConnection Open(string path)
    {
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        try
        {
            db.Open();
            using (var check = db.CreateCommand())
            {
                check.CommandText = "PRAGMA quick_check;";
                var result = check.ExecuteScalar() as string;
                if (!string.Equals(result, "ok", StringComparison.OrdinalIgnoreCase)) throw new InvalidDataException($"integrity check failed: {result}");
            }

            using var setup = db.CreateCommand();
            setup.CommandText = """
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = FULL;
                PRAGMA busy_timeout = 5000;
                CREATE TABLE IF NOT EXISTS events (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    type TEXT NOT NULL,
                    droppable INTEGER NOT NULL,
                    at INTEGER NOT NULL,
                    created INTEGER NOT NULL,
                    body TEXT NOT NULL,
                    bytes INTEGER NOT NULL,
                    evidence_id TEXT,
                    state INTEGER NOT NULL DEFAULT 0,
                    sent INTEGER,
                    problem TEXT);
                CREATE INDEX IF NOT EXISTS ix_events_pending ON events(state, droppable, seq);
                CREATE TABLE IF NOT EXISTS evidence (id TEXT PRIMARY KEY, jpeg BLOB NOT NULL, bytes INTEGER NOT NULL, uploaded INTEGER);
                CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                """;
            setup.ExecuteNonQuery();
            return db;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    private SqliteCommand Command(SqliteTransaction? tx, string sql)
    {
        var cmd = _db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (System.Text.RegularExpressions.Match m in ParameterPattern().Matches(sql))
        {
            if (!cmd.Parameters.Contains(m.Value)) cmd.Parameters.Add(new SqliteParameter(m.Value, null));
        }

        return cmd;
    }

    private long Scalar(string sql)
    {
        using var cmd = Command(null, sql);
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private long Meta(string name)
    {
        using var cmd = Command(null, "SELECT value FROM meta WHERE name = $name");
        cmd.Parameters["$name"].Value = name;
        return cmd.ExecuteScalar() is long v ? v : 0;
    }

    private void Bump(SqliteTransaction tx, string name, long by)
    {
        if (by == 0) return;
        using var cmd = Command(tx, "INSERT INTO meta(name, value) VALUES ($name, $by) ON CONFLICT(name) DO UPDATE SET value = value + $by");
        cmd.Parameters["$name"].Value = name;
        cmd.Parameters["$by"].Value = by;
        cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            try
            {
                using var checkpoint = _db.CreateCommand();
                checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
                checkpoint.ExecuteNonQuery();
            }
            catch (SqliteException)
            {
            }

            _db.Dispose();
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\$[a-z]+")]
    private static partial System.Text.RegularExpressions.Regex ParameterPattern();

    [LoggerMessage(EventId = 5001, Level = LogLevel.Error, Message = "The outbox {Path} is not a healthy database ({Reason}); it was set aside as {Aside} and a fresh outbox started. Events in it were not sent.")]
    private static partial void LogSetAsideCore(ILogger logger, string path, string aside, string reason);

    private static void LogSetAside(ILogger logger, string path, string aside, string reason) => LogSetAsideCore(logger, path, aside, reason);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "The outbox holds {Bytes} bytes of incidents and seat changes, above its bound of {MaxBytes}: they are kept (never dropped); the centre has been unreachable for long")]
    private static partial void LogFullOfIncidents(ILogger logger, long bytes, long maxBytes);
}

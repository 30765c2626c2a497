using System.Text.Json;
using System.Text.Json.Serialization;
using CinemaVision.Core.Alerting;
using CinemaVision.Server.Storage;
using Microsoft.Data.Sqlite;

namespace CinemaVision.Server.Alerting;

public sealed class AlertSchema : IStateSchema
{
    public string Name => "alerts";

    public string CreateSql => """
        CREATE TABLE IF NOT EXISTS alerts (
            id TEXT PRIMARY KEY,
            group_key TEXT NOT NULL,
            rule TEXT NOT NULL,
            status INTEGER NOT NULL,
            opened_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            body TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS ix_alerts_group ON alerts(group_key, updated_at);
        CREATE INDEX IF NOT EXISTS ix_alerts_status ON alerts(status, updated_at);
        CREATE TABLE IF NOT EXISTS alert_history (
            alert_id TEXT NOT NULL,
            at INTEGER NOT NULL,
            action TEXT NOT NULL,
            by_user TEXT,
            detail TEXT);
        CREATE INDEX IF NOT EXISTS ix_alert_history ON alert_history(alert_id, at);
        CREATE TABLE IF NOT EXISTS notification_attempts (
            alert_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            reason TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            at INTEGER NOT NULL,
            succeeded INTEGER NOT NULL,
            error TEXT);
        CREATE INDEX IF NOT EXISTS ix_attempts ON notification_attempts(alert_id, at);
        CREATE TABLE IF NOT EXISTS notification_queue (
            id TEXT PRIMARY KEY,
            alert_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            reason TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            due_at INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX IF NOT EXISTS ix_notification_due ON notification_queue(due_at);
        CREATE TABLE IF NOT EXISTS alert_signal_log (
            agent_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            processed_at INTEGER NOT NULL,
            PRIMARY KEY (agent_id, event_id)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS ix_alert_signal_log_time ON alert_signal_log(processed_at);
        CREATE TABLE IF NOT EXISTS alert_mutes (
            id TEXT PRIMARY KEY,
            until INTEGER NOT NULL,
            body TEXT NOT NULL);
        """;
}

public sealed record AlertHistoryEntry(DateTimeOffset At, string Action, string? By, string? Detail);

public sealed record NotificationAttempt(string Channel, string Reason, int Attempt, DateTimeOffset At, bool Succeeded, string? Error);

/// <summary>A notification waiting in the queue.</summary>
public sealed record QueuedNotification(string Id, string AlertId, string Channel, string Reason, int Attempt);

/// <summary>Alerts, their history, every notification attempt, and mutes, in the relational state database.</summary>
public sealed class AlertStore(StateDatabase db)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public void Save(Alert alert, string action, string? by, string? detail, DateTimeOffset at) =>
        InTransaction((c, tx) => Save(c, tx, alert, action, by, detail, at));

    /// <summary>Runs <paramref name="work"/> in one state-database transaction (an alert, its history and its notifications together).</summary>
    public void InTransaction(Action<SqliteConnection, SqliteTransaction> work)
    {
        using var c = db.Open();
        using var tx = c.BeginTransaction(deferred: false);
        work(c, tx);
        tx.Commit();
    }

    public void Save(SqliteConnection c, SqliteTransaction tx, Alert alert, string action, string? by, string? detail, DateTimeOffset at)
    {
        using (var cmd = c.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = """
                INSERT INTO alerts (id, group_key, rule, status, opened_at, updated_at, body) VALUES ($id, $g, $r, $s, $o, $u, $b)
                ON CONFLICT(id) DO UPDATE SET group_key = $g, status = $s, updated_at = $u, body = $b
                """;
            cmd.Parameters.AddWithValue("$id", alert.Id);
            cmd.Parameters.AddWithValue("$g", alert.GroupKey);
            cmd.Parameters.AddWithValue("$r", alert.RuleName);
            cmd.Parameters.AddWithValue("$s", (int)alert.Status);
            cmd.Parameters.AddWithValue("$o", alert.OpenedAt.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("$u", at.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("$b", JsonSerializer.Serialize(alert, Json));
            cmd.ExecuteNonQuery();
        }

        using var h = c.CreateCommand();
        h.Transaction = tx;
        h.CommandText = "INSERT INTO alert_history (alert_id, at, action, by_user, detail) VALUES ($id, $at, $a, $by, $d)";
        h.Parameters.AddWithValue("$id", alert.Id);
        h.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
        h.Parameters.AddWithValue("$a", action);
        h.Parameters.AddWithValue("$by", (object?)by ?? DBNull.Value);
        h.Parameters.AddWithValue("$d", (object?)detail ?? DBNull.Value);
        h.ExecuteNonQuery();
    }

    /// <summary>True when this agent's event already went through the alerting engine (a signal is processed once).</summary>
    public static bool SignalProcessed(SqliteConnection c, SqliteTransaction tx, string agentId, string eventId)
    {
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "SELECT 1 FROM alert_signal_log WHERE agent_id = $a AND event_id = $e";
        cmd.Parameters.AddWithValue("$a", agentId);
        cmd.Parameters.AddWithValue("$e", eventId);
        return cmd.ExecuteScalar() is not null;
    }

    public static void MarkSignalProcessed(SqliteConnection c, SqliteTransaction tx, string agentId, string eventId, DateTimeOffset at)
    {
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT OR IGNORE INTO alert_signal_log (agent_id, event_id, processed_at) VALUES ($a, $e, $at)";
        cmd.Parameters.AddWithValue("$a", agentId);
        cmd.Parameters.AddWithValue("$e", eventId);
        cmd.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
        cmd.ExecuteNonQuery();
    }

    /// <summary>Forgets processed-signal records older than <paramref name="before"/> (past the agents' retry horizon).</summary>
    public int PruneSignalLog(DateTimeOffset before)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "DELETE FROM alert_signal_log WHERE processed_at < $t";
        cmd.Parameters.AddWithValue("$t", before.ToUnixTimeMilliseconds());
        return cmd.ExecuteNonQuery();
    }

    public Alert? Get(string id) => Query("SELECT body FROM alerts WHERE id = $p", id).FirstOrDefault();

    /// <summary>The most recent alert of a group (the one an event may join).</summary>
    public Alert? LatestInGroup(string groupKey) => Query("SELECT body FROM alerts WHERE group_key = $p ORDER BY updated_at DESC LIMIT 1", groupKey).FirstOrDefault();

    public static Alert? LatestInGroup(SqliteConnection c, SqliteTransaction tx, string groupKey) => Query(c, tx, "SELECT body FROM alerts WHERE group_key = $p ORDER BY updated_at DESC LIMIT 1", groupKey).FirstOrDefault();

    public static Alert? Get(SqliteConnection c, SqliteTransaction tx, string id) => Query(c, tx, "SELECT body FROM alerts WHERE id = $p", id).FirstOrDefault();

    public IReadOnlyList<Alert> List(AlertStatus? status, int limit = 200) => status is { } s
        ? Query("SELECT body FROM alerts WHERE status = $p ORDER BY updated_at DESC LIMIT " + limit, (int)s)
        : Query("SELECT body FROM alerts ORDER BY updated_at DESC LIMIT " + limit, null);

    public IReadOnlyList<Alert> Open() => Query("SELECT body FROM alerts WHERE status = $p", (int)AlertStatus.Open);

    public IReadOnlyList<AlertHistoryEntry> History(string alertId)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT at, action, by_user, detail FROM alert_history WHERE alert_id = $id ORDER BY at, rowid";
        cmd.Parameters.AddWithValue("$id", alertId);
        using var r = cmd.ExecuteReader();
        var list = new List<AlertHistoryEntry>();
        while (r.Read()) list.Add(new(DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(0)), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3)));
        return list;
    }

    public void RecordAttempt(string alertId, NotificationAttempt a)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "INSERT INTO notification_attempts (alert_id, channel, reason, attempt, at, succeeded, error) VALUES ($id, $c, $r, $n, $at, $ok, $e)";
        cmd.Parameters.AddWithValue("$id", alertId);
        cmd.Parameters.AddWithValue("$c", a.Channel);
        cmd.Parameters.AddWithValue("$r", a.Reason);
        cmd.Parameters.AddWithValue("$n", a.Attempt);
        cmd.Parameters.AddWithValue("$at", a.At.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$ok", a.Succeeded ? 1 : 0);
        cmd.Parameters.AddWithValue("$e", (object?)a.Error ?? DBNull.Value);
        cmd.ExecuteNonQuery();
    }

    public IReadOnlyList<NotificationAttempt> Attempts(string alertId)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT channel, reason, attempt, at, succeeded, error FROM notification_attempts WHERE alert_id = $id ORDER BY at, rowid";
        cmd.Parameters.AddWithValue("$id", alertId);
        using var r = cmd.ExecuteReader();
        var list = new List<NotificationAttempt>();
        while (r.Read()) list.Add(new(r.GetString(0), r.GetString(1), r.GetInt32(2), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)), r.GetInt32(4) == 1, r.IsDBNull(5) ? null : r.GetString(5)));
        return list;
    }

    /// <summary>A notification still to be delivered (kept until it succeeds or is given up, so a restart resumes it).</summary>
    public static void Enqueue(SqliteConnection c, SqliteTransaction tx, string id, string alertId, string channel, string reason, int attempt, DateTimeOffset due)
    {
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT OR REPLACE INTO notification_queue (id, alert_id, channel, reason, attempt, due_at) VALUES ($id, $a, $c, $r, $n, $due)";
        cmd.Parameters.AddWithValue("$id", id);
        cmd.Parameters.AddWithValue("$a", alertId);
        cmd.Parameters.AddWithValue("$c", channel);
        cmd.Parameters.AddWithValue("$r", reason);
        cmd.Parameters.AddWithValue("$n", attempt);
        cmd.Parameters.AddWithValue("$due", due.ToUnixTimeMilliseconds());
        cmd.ExecuteNonQuery();
    }

    public static void Dequeue(SqliteConnection c, SqliteTransaction tx, string id)
    {
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "DELETE FROM notification_queue WHERE id = $id";
        cmd.Parameters.AddWithValue("$id", id);
        cmd.ExecuteNonQuery();
    }

    public static void RecordAttempt(SqliteConnection c, SqliteTransaction tx, string alertId, NotificationAttempt a)
    {
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT INTO notification_attempts (alert_id, channel, reason, attempt, at, succeeded, error) VALUES ($id, $c, $r, $n, $at, $ok, $e)";
        cmd.Parameters.AddWithValue("$id", alertId);
        cmd.Parameters.AddWithValue("$c", a.Channel);
        cmd.Parameters.AddWithValue("$r", a.Reason);
        cmd.Parameters.AddWithValue("$n", a.Attempt);
        cmd.Parameters.AddWithValue("$at", a.At.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$ok", a.Succeeded ? 1 : 0);
        cmd.Parameters.AddWithValue("$e", (object?)a.Error ?? DBNull.Value);
        cmd.ExecuteNonQuery();
    }

    /// <summary>Notifications due now, oldest first, skipping <paramref name="busy"/> (already being delivered).</summary>
    public IReadOnlyList<QueuedNotification> Due(DateTimeOffset now, int limit, IReadOnlyCollection<string> busy)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id, alert_id, channel, reason, attempt FROM notification_queue WHERE due_at <= $now ORDER BY due_at, rowid LIMIT $n";
        cmd.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$n", limit + busy.Count);
        using var r = cmd.ExecuteReader();
        var list = new List<QueuedNotification>();
        while (r.Read() && list.Count < limit)
        {
            var id = r.GetString(0);
            if (!busy.Contains(id)) list.Add(new(id, r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt32(4)));
        }

        return list;
    }

    public long PendingNotifications()
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM notification_queue";
        return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public void SaveMute(AlertMute mute)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "INSERT OR REPLACE INTO alert_mutes (id, until, body) VALUES ($id, $u, $b)";
        cmd.Parameters.AddWithValue("$id", mute.Id);
        cmd.Parameters.AddWithValue("$u", mute.Until.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$b", JsonSerializer.Serialize(mute, Json));
        cmd.ExecuteNonQuery();
    }

    public bool DeleteMute(string id)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "DELETE FROM alert_mutes WHERE id = $id";
        cmd.Parameters.AddWithValue("$id", id);
        return cmd.ExecuteNonQuery() > 0;
    }

    public IReadOnlyList<AlertMute> ActiveMutes(DateTimeOffset now)
    {
        using var c = db.Open();
        return ActiveMutes(c, null, now);
    }

    public static IReadOnlyList<AlertMute> ActiveMutes(SqliteConnection c, SqliteTransaction? tx, DateTimeOffset now)
    {
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "SELECT body FROM alert_mutes WHERE until > $now";
        cmd.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        using var r = cmd.ExecuteReader();
        var list = new List<AlertMute>();
        while (r.Read()) list.Add(JsonSerializer.Deserialize<AlertMute>(r.GetString(0), Json)!);
        return list;
    }

    private List<Alert> Query(string sql, object? p)
    {
        using var c = db.Open();
        return Query(c, null, sql, p);
    }

    private static List<Alert> Query(SqliteConnection c, SqliteTransaction? tx, string sql, object? p)
    {
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        if (p is not null) cmd.Parameters.AddWithValue("$p", p);
        using var r = cmd.ExecuteReader();
        var list = new List<Alert>();
        while (r.Read()) list.Add(JsonSerializer.Deserialize<Alert>(r.GetString(0), Json)!);
        return list;
    }
}

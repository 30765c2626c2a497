using System.Text.Json;
using System.Text.Json.Serialization;
using CinemaVision.Core.Alerting;
using CinemaVision.Server.Storage;

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
            attempt INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS alert_mutes (
            id TEXT PRIMARY KEY,
            until INTEGER NOT NULL,
            body TEXT NOT NULL);
        """;
}

public sealed record AlertHistoryEntry(DateTimeOffset At, string Action, string? By, string? Detail);

public sealed record NotificationAttempt(string Channel, string Reason, int Attempt, DateTimeOffset At, bool Succeeded, string? Error);

/// <summary>Alerts, their history, every notification attempt, and mutes, in the relational state database.</summary>
public sealed class AlertStore(StateDatabase db)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public void Save(Alert alert, string action, string? by, string? detail, DateTimeOffset at)
    {
        using var c = db.Open();
        using var tx = c.BeginTransaction();
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

        using (var h = c.CreateCommand())
        {
            h.Transaction = tx;
            h.CommandText = "INSERT INTO alert_history (alert_id, at, action, by_user, detail) VALUES ($id, $at, $a, $by, $d)";
            h.Parameters.AddWithValue("$id", alert.Id);
            h.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
            h.Parameters.AddWithValue("$a", action);
            h.Parameters.AddWithValue("$by", (object?)by ?? DBNull.Value);
            h.Parameters.AddWithValue("$d", (object?)detail ?? DBNull.Value);
            h.ExecuteNonQuery();
        }

        tx.Commit();
    }

    public Alert? Get(string id) => Query("SELECT body FROM alerts WHERE id = $p", id).FirstOrDefault();

    /// <summary>The most recent alert of a group (the one an event may join).</summary>
    public Alert? LatestInGroup(string groupKey) => Query("SELECT body FROM alerts WHERE group_key = $p ORDER BY updated_at DESC LIMIT 1", groupKey).FirstOrDefault();

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
    public void Enqueue(string id, string alertId, string channel, string reason, int attempt)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "INSERT OR REPLACE INTO notification_queue (id, alert_id, channel, reason, attempt) VALUES ($id, $a, $c, $r, $n)";
        cmd.Parameters.AddWithValue("$id", id);
        cmd.Parameters.AddWithValue("$a", alertId);
        cmd.Parameters.AddWithValue("$c", channel);
        cmd.Parameters.AddWithValue("$r", reason);
        cmd.Parameters.AddWithValue("$n", attempt);
        cmd.ExecuteNonQuery();
    }

    public void Dequeue(string id)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "DELETE FROM notification_queue WHERE id = $id";
        cmd.Parameters.AddWithValue("$id", id);
        cmd.ExecuteNonQuery();
    }

    public IReadOnlyList<(string Id, string AlertId, string Channel, string Reason, int Attempt)> Pending()
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id, alert_id, channel, reason, attempt FROM notification_queue ORDER BY rowid";
        using var r = cmd.ExecuteReader();
        var list = new List<(string, string, string, string, int)>();
        while (r.Read()) list.Add((r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt32(4)));
        return list;
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
        using var cmd = c.CreateCommand();
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
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        if (p is not null) cmd.Parameters.AddWithValue("$p", p);
        using var r = cmd.ExecuteReader();
        var list = new List<Alert>();
        while (r.Read()) list.Add(JsonSerializer.Deserialize<Alert>(r.GetString(0), Json)!);
        return list;
    }
}

using System.Globalization;
using System.Text.Json;
using CinemaVision.Core.Audience;
using CinemaVision.Server.Storage;

namespace CinemaVision.Server.Audience;

public sealed class SpotCountSchema : IStateSchema
{
    public string Name => "spot_counts";

    public string CreateSql => """
        CREATE TABLE IF NOT EXISTS spot_counts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            site_id TEXT NOT NULL,
            auditorium_id TEXT NOT NULL,
            at INTEGER NOT NULL,
            people INTEGER NOT NULL,
            seats TEXT NULL,
            note TEXT NULL,
            entered_by TEXT NOT NULL,
            entered_at INTEGER NOT NULL,
            reported_people INTEGER NULL,
            reported_at INTEGER NULL,
            error INTEGER NULL,
            seats_agreed INTEGER NULL,
            seats_missed INTEGER NULL,
            seats_false INTEGER NULL);
        CREATE INDEX IF NOT EXISTS ix_spot_counts_auditorium ON spot_counts(site_id, auditorium_id, at);
        CREATE TABLE IF NOT EXISTS seat_prior_thresholds (
            site_id TEXT NOT NULL,
            auditorium_id TEXT NOT NULL,
            threshold REAL NOT NULL,
            updated_at INTEGER NOT NULL,
            reason TEXT NOT NULL,
            PRIMARY KEY (site_id, auditorium_id));
        """;
}

/// <summary>A stored spot count with its comparison to what the agent reported.</summary>
public sealed record StoredSpotCount(
    long Id,
    string SiteId,
    string AuditoriumId,
    DateTimeOffset At,
    int People,
    IReadOnlyList<string>? Seats,
    string? Note,
    string EnteredBy,
    DateTimeOffset EnteredAt,
    int? ReportedPeople,
    DateTimeOffset? ReportedAt,
    int? Error,
    int? SeatsAgreed,
    int? SeatsMissed,
    int? SeatsFalse);

/// <summary>An auditorium's adjusted seat-prior head threshold (absent: the product default applies).</summary>
public sealed record SeatPriorThreshold(string SiteId, string AuditoriumId, float Threshold, DateTimeOffset UpdatedAt, string Reason);

/// <summary>Spot counts per auditorium and each auditorium's adjusted seat-prior threshold.</summary>
public sealed class SpotCountStore(StateDatabase db)
{
    public StoredSpotCount Add(SpotCount spot, SpotCountComparison comparison, string enteredBy, DateTimeOffset enteredAt)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            INSERT INTO spot_counts (site_id, auditorium_id, at, people, seats, note, entered_by, entered_at, reported_people, reported_at, error, seats_agreed, seats_missed, seats_false)
            VALUES ($s, $a, $at, $p, $seats, $note, $by, $en, $rp, $ra, $err, $sa, $sm, $sf) RETURNING id
            """;
        cmd.Parameters.AddWithValue("$s", spot.SiteId);
        cmd.Parameters.AddWithValue("$a", spot.AuditoriumId);
        cmd.Parameters.AddWithValue("$at", spot.At.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$p", spot.People);
        cmd.Parameters.AddWithValue("$seats", spot.OccupiedSeats is null ? DBNull.Value : JsonSerializer.Serialize(spot.OccupiedSeats));
        cmd.Parameters.AddWithValue("$note", (object?)spot.Note ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$by", enteredBy);
        cmd.Parameters.AddWithValue("$en", enteredAt.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$rp", (object?)comparison.ReportedPeople ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$ra", comparison.ReportedAt is { } ra ? ra.ToUnixTimeMilliseconds() : DBNull.Value);
        cmd.Parameters.AddWithValue("$err", (object?)comparison.Error ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$sa", (object?)comparison.SeatsAgreed ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$sm", (object?)comparison.SeatsMissed ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$sf", (object?)comparison.SeatsFalse ?? DBNull.Value);
        long id = (long)cmd.ExecuteScalar()!;
        return new StoredSpotCount(id, spot.SiteId, spot.AuditoriumId, spot.At, spot.People, spot.OccupiedSeats, spot.Note, enteredBy, enteredAt,
            comparison.ReportedPeople, comparison.ReportedAt, comparison.Error, comparison.SeatsAgreed, comparison.SeatsMissed, comparison.SeatsFalse);
    }

    /// <summary>Spot counts of an auditorium taken in [from, to), oldest first.</summary>
    public IReadOnlyList<StoredSpotCount> Between(string siteId, string auditoriumId, DateTimeOffset from, DateTimeOffset to)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT id, at, people, seats, note, entered_by, entered_at, reported_people, reported_at, error, seats_agreed, seats_missed, seats_false
            FROM spot_counts WHERE site_id = $s AND auditorium_id = $a AND at >= $f AND at < $t ORDER BY at, id
            """;
        cmd.Parameters.AddWithValue("$s", siteId);
        cmd.Parameters.AddWithValue("$a", auditoriumId);
        cmd.Parameters.AddWithValue("$f", from.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$t", to.ToUnixTimeMilliseconds());
        using var r = cmd.ExecuteReader();
        var list = new List<StoredSpotCount>();
        static int? Int(Microsoft.Data.Sqlite.SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt32(i);
        while (r.Read())
        {
            list.Add(new StoredSpotCount(
                r.GetInt64(0), siteId, auditoriumId, DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), r.GetInt32(2),
                r.IsDBNull(3) ? null : JsonSerializer.Deserialize<List<string>>(r.GetString(3)), r.IsDBNull(4) ? null : r.GetString(4),
                r.GetString(5), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(6)), Int(r, 7),
                r.IsDBNull(8) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(8)), Int(r, 9), Int(r, 10), Int(r, 11), Int(r, 12)));
        }

        return list;
    }

    public SeatPriorThreshold? Threshold(string siteId, string auditoriumId)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT threshold, updated_at, reason FROM seat_prior_thresholds WHERE site_id = $s AND auditorium_id = $a";
        cmd.Parameters.AddWithValue("$s", siteId);
        cmd.Parameters.AddWithValue("$a", auditoriumId);
        using var r = cmd.ExecuteReader();
        return r.Read() ? new SeatPriorThreshold(siteId, auditoriumId, (float)r.GetDouble(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), r.GetString(2)) : null;
    }

    /// <summary>Every adjusted threshold of a site (what its agents apply).</summary>
    public IReadOnlyList<SeatPriorThreshold> Thresholds(string siteId)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT auditorium_id, threshold, updated_at, reason FROM seat_prior_thresholds WHERE site_id = $s ORDER BY auditorium_id";
        cmd.Parameters.AddWithValue("$s", siteId);
        using var r = cmd.ExecuteReader();
        var list = new List<SeatPriorThreshold>();
        while (r.Read()) list.Add(new SeatPriorThreshold(siteId, r.GetString(0), (float)r.GetDouble(1), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2)), r.GetString(3)));
        return list;
    }

    public void SetThreshold(string siteId, string auditoriumId, float threshold, DateTimeOffset at, string reason)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            INSERT INTO seat_prior_thresholds (site_id, auditorium_id, threshold, updated_at, reason) VALUES ($s, $a, $t, $u, $r)
            ON CONFLICT(site_id, auditorium_id) DO UPDATE SET threshold = $t, updated_at = $u, reason = $r
            """;
        cmd.Parameters.AddWithValue("$s", siteId);
        cmd.Parameters.AddWithValue("$a", auditoriumId);
        cmd.Parameters.AddWithValue("$t", (double)threshold);
        cmd.Parameters.AddWithValue("$u", at.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$r", reason);
        cmd.ExecuteNonQuery();
    }

    internal static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

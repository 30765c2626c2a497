using CinemaVision.Server.Configuration;
using CinemaVision.Server.Storage;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Sites;

public sealed class SiteSchema : IStateSchema
{
    public string Name => "sites";

    public string CreateSql => """
        CREATE TABLE IF NOT EXISTS sites (
            site_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            time_zone TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            updated_by TEXT NOT NULL);
        """;
}

/// <summary>
/// A cinema of the chain: its display name and the time zone its schedule, reports and dashboard use.
/// <see cref="Registered"/> is false for a site only known from its agents, auditoriums or schedule (it then has the
/// default time zone until an administrator sets one).
/// </summary>
public sealed record Site(string SiteId, string Name, string TimeZoneId, bool Registered)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public TimeZoneInfo TimeZone => SiteStore.FindZone(TimeZoneId) ?? TimeZoneInfo.Utc;
}

/// <summary>The sites of the chain: those registered by an administrator and those referenced by agents, auditorium files and schedules.</summary>
public sealed class SiteStore(StateDatabase db, IOptions<ServerOptions> options, TimeProvider time)
{
    /// <summary>The time zone of sites nobody configured: <c>CinemaVision:DefaultTimeZone</c>, else the server's own.</summary>
    public string DefaultTimeZoneId => options.Value.DefaultTimeZone is { Length: > 0 } id ? id : TimeZoneInfo.Local.Id;

    public IReadOnlyList<Site> List()
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT k.site_id, s.name, s.time_zone FROM (
                SELECT site_id FROM sites UNION SELECT site_id FROM auditorium_configs UNION SELECT site_id FROM agents UNION SELECT site_id FROM showings) k
            LEFT JOIN sites s ON s.site_id = k.site_id ORDER BY COALESCE(s.name, k.site_id) COLLATE NOCASE;
            """;
        using var r = cmd.ExecuteReader();
        var list = new List<Site>();
        while (r.Read()) list.Add(r.IsDBNull(1) ? Unregistered(r.GetString(0)) : new Site(r.GetString(0), r.GetString(1), r.GetString(2), true));
        return list;
    }

    /// <summary>The site as registered, or with its id as name and the default time zone.</summary>
    public Site Get(string siteId)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT name, time_zone FROM sites WHERE site_id = $s;";
        cmd.Parameters.AddWithValue("$s", siteId);
        using var r = cmd.ExecuteReader();
        return r.Read() ? new Site(siteId, r.GetString(0), r.GetString(1), true) : Unregistered(siteId);
    }

    /// <summary>Registers or renames a site and sets its time zone; problems are keyed by field.</summary>
    public (Site? Site, Dictionary<string, string[]> Errors) Save(string siteId, string? name, string? timeZoneId, string by)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(siteId) || siteId.Length > 128 || siteId.Any(char.IsControl)) errors["siteId"] = ["required, at most 128 printable characters."];
        if (string.IsNullOrWhiteSpace(name) || name.Length > 120) errors["name"] = ["required, at most 120 characters."];
        if (timeZoneId is null || FindZone(timeZoneId) is null) errors["timeZone"] = [$"'{timeZoneId}' is not a known time zone (use an IANA id such as Asia/Shanghai or Europe/Berlin)."];
        if (errors.Count > 0) return (null, errors);
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            INSERT INTO sites (site_id, name, time_zone, updated_at, updated_by) VALUES ($s, $n, $z, $at, $by)
            ON CONFLICT(site_id) DO UPDATE SET name = $n, time_zone = $z, updated_at = $at, updated_by = $by;
            """;
        cmd.Parameters.AddWithValue("$s", siteId);
        cmd.Parameters.AddWithValue("$n", name!.Trim());
        cmd.Parameters.AddWithValue("$z", timeZoneId!);
        cmd.Parameters.AddWithValue("$at", time.GetUtcNow().ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$by", by);
        cmd.ExecuteNonQuery();
        return (new Site(siteId, name.Trim(), timeZoneId!, true), errors);
    }

    /// <summary>The zone for an IANA (or Windows) id, or null when the id is unknown.</summary>
    public static TimeZoneInfo? FindZone(string id) =>
        !string.IsNullOrWhiteSpace(id) && TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) ? zone : null;

    private Site Unregistered(string siteId) => new(siteId, siteId, DefaultTimeZoneId, false);
}

using System.Security.Cryptography;
using System.Text;
using CinemaVision.Server.Storage;

namespace CinemaVision.Server.Sites;

public sealed class AuditoriumConfigSchema : IStateSchema
{
    public string Name => "auditorium_configs";

    public string CreateSql => """
        CREATE TABLE IF NOT EXISTS auditorium_configs (
            site_id TEXT NOT NULL,
            auditorium_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            etag TEXT NOT NULL,
            body TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            updated_by TEXT NOT NULL,
            PRIMARY KEY (site_id, auditorium_id));
        """;
}

public sealed record AuditoriumConfig(string SiteId, string AuditoriumId, int Version, string ETag, string Body, DateTimeOffset UpdatedAt, string UpdatedBy);

/// <summary>
/// The source of truth for auditoriums, cameras, seat maps and zones: the validated auditorium JSON per
/// auditorium, versioned, with an ETag so agents pull only when it changed.
/// </summary>
public sealed class AuditoriumConfigStore(StateDatabase db, TimeProvider time)
{
    public AuditoriumConfig Save(string siteId, string auditoriumId, string body, string by)
    {
        using var c = db.Open();
        using var tx = c.BeginTransaction();
        int version;
        using (var v = c.CreateCommand())
        {
            v.Transaction = tx;
            v.CommandText = "SELECT version FROM auditorium_configs WHERE site_id = $s AND auditorium_id = $a";
            v.Parameters.AddWithValue("$s", siteId);
            v.Parameters.AddWithValue("$a", auditoriumId);
            version = (v.ExecuteScalar() is long l ? (int)l : 0) + 1;
        }

        var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)))[..32] + "\"";
        var now = time.GetUtcNow();
        using (var cmd = c.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = """
                INSERT INTO auditorium_configs (site_id, auditorium_id, version, etag, body, updated_at, updated_by) VALUES ($s, $a, $v, $e, $b, $u, $by)
                ON CONFLICT(site_id, auditorium_id) DO UPDATE SET version = $v, etag = $e, body = $b, updated_at = $u, updated_by = $by
                """;
            cmd.Parameters.AddWithValue("$s", siteId);
            cmd.Parameters.AddWithValue("$a", auditoriumId);
            cmd.Parameters.AddWithValue("$v", version);
            cmd.Parameters.AddWithValue("$e", etag);
            cmd.Parameters.AddWithValue("$b", body);
            cmd.Parameters.AddWithValue("$u", now.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("$by", by);
            cmd.ExecuteNonQuery();
        }

        tx.Commit();
        return new AuditoriumConfig(siteId, auditoriumId, version, etag, body, now, by);
    }

    public IReadOnlyList<AuditoriumConfig> ForSite(string siteId)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT auditorium_id, version, etag, body, updated_at, updated_by FROM auditorium_configs WHERE site_id = $s ORDER BY auditorium_id";
        cmd.Parameters.AddWithValue("$s", siteId);
        using var r = cmd.ExecuteReader();
        var list = new List<AuditoriumConfig>();
        while (r.Read()) list.Add(new(siteId, r.GetString(0), r.GetInt32(1), r.GetString(2), r.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)), r.GetString(5)));
        return list;
    }

    /// <summary>One ETag for everything a site's agents pull.</summary>
    public static string SiteETag(IReadOnlyList<AuditoriumConfig> configs) =>
        "\"" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("|", configs.Select(c => c.AuditoriumId + ":" + c.ETag)))))[..32] + "\"";
}

using System.Text.RegularExpressions;
using CinemaVision.Server.Configuration;
using CinemaVision.Server.Storage;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Evidence;

public sealed class EvidenceOptions
{
    public const string Section = "CinemaVision:Evidence";

    /// <summary>Evidence snapshots are kept this many days, then deleted.</summary>
    public double RetentionDays { get; set; } = 30;

    /// <summary>Largest accepted upload.</summary>
    public int MaxBytes { get; set; } = 2 * 1024 * 1024;

    public double CleanupIntervalMinutes { get; set; } = 60;
}

public sealed class EvidenceSchema : IStateSchema
{
    public string Name => "evidence";

    public string CreateSql => """
        CREATE TABLE IF NOT EXISTS evidence (
            id TEXT PRIMARY KEY,
            agent_id TEXT NOT NULL,
            site_id TEXT NOT NULL,
            content_type TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            created_at INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS ix_evidence_time ON evidence(created_at);
        """;
}

public sealed record EvidenceFile(string Id, string Path, string ContentType, string SiteId, long Bytes, DateTimeOffset CreatedAt);

/// <summary>
/// Evidence snapshots (JPEG/PNG of a seat region) on disk under the data folder, referenced by id from events.
/// Only images are accepted (checked by their first bytes, not by the declared type); they are deleted after the
/// retention time. Video is never stored.
/// </summary>
public sealed partial class EvidenceStore
{
    private readonly StateDatabase _db;
    private readonly TimeProvider _time;
    private readonly string _folder;

    public EvidenceStore(StateDatabase db, IOptions<ServerOptions> server, IOptions<EvidenceOptions> options, TimeProvider time)
    {
        _db = db;
        _time = time;
        Options = options.Value;
        _folder = Path.Combine(Path.GetFullPath(server.Value.DataDirectory), "evidence");
        Directory.CreateDirectory(_folder);
    }

    public EvidenceOptions Options { get; }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    public static partial Regex IdPattern();

    /// <summary>The image type from its magic bytes, or null when it is not a complete JPEG or PNG.</summary>
    public static string? Sniff(ReadOnlySpan<byte> data)
    {
        if (data.Length > 4 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        {
            // A truncated JPEG lacks its end-of-image marker.
            return data[^2] == 0xFF && data[^1] == 0xD9 ? "image/jpeg" : null;
        }

        ReadOnlySpan<byte> png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        ReadOnlySpan<byte> iend = [0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82];
        return data.Length > 16 && data.StartsWith(png) ? (data.EndsWith(iend) ? "image/png" : null) : null;
    }

    public EvidenceFile Save(string id, string agentId, string siteId, byte[] data, string contentType)
    {
        var path = PathOf(id);
        var tmp = path + ".partial";
        File.WriteAllBytes(tmp, data);
        File.Move(tmp, path, overwrite: true);
        var now = _time.GetUtcNow();
        using var c = _db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "INSERT OR REPLACE INTO evidence (id, agent_id, site_id, content_type, bytes, created_at) VALUES ($id, $a, $s, $t, $b, $at)";
        cmd.Parameters.AddWithValue("$id", id);
        cmd.Parameters.AddWithValue("$a", agentId);
        cmd.Parameters.AddWithValue("$s", siteId);
        cmd.Parameters.AddWithValue("$t", contentType);
        cmd.Parameters.AddWithValue("$b", data.LongLength);
        cmd.Parameters.AddWithValue("$at", now.ToUnixTimeMilliseconds());
        cmd.ExecuteNonQuery();
        return new EvidenceFile(id, path, contentType, siteId, data.LongLength, now);
    }

    public EvidenceFile? TryOpen(string id)
    {
        if (!IdPattern().IsMatch(id)) return null;
        using var c = _db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT content_type, site_id, bytes, created_at FROM evidence WHERE id = $id";
        cmd.Parameters.AddWithValue("$id", id);
        using var r = cmd.ExecuteReader();
        if (!r.Read()) return null;
        var path = PathOf(id);
        return File.Exists(path) ? new EvidenceFile(id, path, r.GetString(0), r.GetString(1), r.GetInt64(2), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3))) : null;
    }

    public bool Delete(string id)
    {
        if (!IdPattern().IsMatch(id)) return false;
        using var c = _db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "DELETE FROM evidence WHERE id = $id";
        cmd.Parameters.AddWithValue("$id", id);
        bool existed = cmd.ExecuteNonQuery() > 0;
        var path = PathOf(id);
        if (File.Exists(path))
        {
            File.Delete(path);
            existed = true;
        }

        return existed;
    }

    /// <summary>Deletes evidence older than the retention time; returns how many files went.</summary>
    public int DeleteExpired()
    {
        long cutoff = (_time.GetUtcNow() - TimeSpan.FromDays(Options.RetentionDays)).ToUnixTimeMilliseconds();
        var expired = new List<string>();
        using (var c = _db.Open())
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT id FROM evidence WHERE created_at < $cut";
            cmd.Parameters.AddWithValue("$cut", cutoff);
            using var r = cmd.ExecuteReader();
            while (r.Read()) expired.Add(r.GetString(0));
        }

        foreach (var id in expired) Delete(id);
        return expired.Count;
    }

    private string PathOf(string id) => Path.Combine(_folder, id);
}

/// <summary>Applies the evidence retention limit periodically.</summary>
public sealed class EvidenceRetentionService(EvidenceStore store, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(Math.Max(1, store.Options.CleanupIntervalMinutes)), time);
        do
        {
            store.DeleteExpired();
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}

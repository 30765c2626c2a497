using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using CinemaVision.Server.Auth;
using CinemaVision.Server.Configuration;
using CinemaVision.Server.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Evidence;

public sealed class EvidenceOptions
{
    public const string Section = "CinemaVision:Evidence";

    /// <summary>Evidence snapshots are kept this many days, then deleted.</summary>
    public double RetentionDays { get; set; } = 30;

    /// <summary>Largest accepted upload.</summary>
    public int MaxBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>Largest accepted image, in pixels (width x height): a seat-region crop is far smaller; a decompression bomb is not.</summary>
    public long MaxPixels { get; set; } = 16_000_000;

    public double CleanupIntervalMinutes { get; set; } = 60;

    /// <summary>A row without its file (or a file without its row) younger than this may be an upload in progress.</summary>
    public double OrphanGraceMinutes { get; set; } = 10;
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
            created_at INTEGER NOT NULL,
            sha256 TEXT NULL,
            stored INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX IF NOT EXISTS ix_evidence_time ON evidence(created_at);
        """;
}

public sealed record EvidenceFile(string Id, string Path, string ContentType, string SiteId, long Bytes, DateTimeOffset CreatedAt);

/// <summary>The width, height and type of a complete image, read from its header.</summary>
public sealed record ImageInfo(string ContentType, int Width, int Height)
{
    public long Pixels => (long)Width * Height;
}

/// <summary>How an upload went.</summary>
public enum EvidenceSaveOutcome
{
    Created = 0,

    /// <summary>The same agent sent the same bytes again (a retry): nothing changed.</summary>
    AlreadyStored = 1,

    /// <summary>The id is taken by other bytes, another agent or another site: refused, nothing changed.</summary>
    Conflict = 2,
}

public sealed record EvidenceSaveResult(EvidenceSaveOutcome Outcome, EvidenceFile? File, string? OwnerSiteId);

/// <summary>
/// Evidence snapshots (JPEG/PNG of a seat region) on disk under the data folder, referenced by id from events.
/// Only images are accepted (checked by their bytes, not by the declared type, and by their pixel count); they are
/// deleted after the retention time. Video is never stored. An id belongs to the agent and site that first wrote it:
/// the row (owner and sha256) is written before the file and the file is renamed into place complete, so no file
/// is ever served half-written or without its owner; a retry with the same bytes is accepted, anything else is a
/// conflict. Rows and files left behind by a crash are reconciled by <see cref="CleanUpOrphans"/>.
/// </summary>
public sealed partial class EvidenceStore
{
    private const string PartialSuffix = ".partial";
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

    /// <summary>The folder holding the files (backups copy it).</summary>
    public string Folder => _folder;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    public static partial Regex IdPattern();

    /// <summary>The image type from its magic bytes, or null when it is not a complete JPEG or PNG.</summary>
    public static string? Sniff(ReadOnlySpan<byte> data) => Inspect(data)?.ContentType;

    /// <summary>Type and size of a complete JPEG or PNG from its header; null for anything else or a truncated file.</summary>
    public static ImageInfo? Inspect(ReadOnlySpan<byte> data)
    {
        if (data.Length > 4 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        {
            // A truncated JPEG lacks its end-of-image marker; the size is in the first start-of-frame segment.
            if (data[^2] != 0xFF || data[^1] != 0xD9)
            {
                return null;
            }

            var i = 2;
            while (i + 9 < data.Length)
            {
                if (data[i] != 0xFF)
                {
                    return null;
                }

                var marker = data[i + 1];
                if (marker == 0xFF)
                {
                    i++;
                    continue;
                }

                var length = BinaryPrimitives.ReadUInt16BigEndian(data[(i + 2)..]);
                if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
                {
                    var height = BinaryPrimitives.ReadUInt16BigEndian(data[(i + 5)..]);
                    var width = BinaryPrimitives.ReadUInt16BigEndian(data[(i + 7)..]);
                    return width > 0 && height > 0 ? new ImageInfo("image/jpeg", width, height) : null;
                }

                if (marker == 0xDA || length < 2)
                {
                    return null;
                }

                i += 2 + length;
            }

            return null;
        }

        ReadOnlySpan<byte> png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        ReadOnlySpan<byte> iend = [0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82];
        if (data.Length > 33 && data.StartsWith(png) && data.EndsWith(iend) && data[12..16].SequenceEqual("IHDR"u8))
        {
            var width = BinaryPrimitives.ReadUInt32BigEndian(data[16..]);
            var height = BinaryPrimitives.ReadUInt32BigEndian(data[20..]);
            return width is > 0 and <= int.MaxValue && height is > 0 and <= int.MaxValue ? new ImageInfo("image/png", (int)width, (int)height) : null;
        }

        return null;
    }

    public EvidenceSaveResult Save(string id, string agentId, string siteId, byte[] data, string contentType)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(data));
        var now = _time.GetUtcNow();
        var path = PathOf(id);

        // 1. The row first: it binds the id to this agent, site and content before any byte reaches the disk.
        using (var c = _db.Open())
        {
            using var tx = c.BeginTransaction(deferred: false);
            using (var find = c.CreateCommand())
            {
                find.Transaction = tx;
                find.CommandText = "SELECT agent_id, site_id, sha256, stored, content_type, bytes, created_at FROM evidence WHERE id = $id";
                find.Parameters.AddWithValue("$id", id);
                using var r = find.ExecuteReader();
                if (r.Read())
                {
                    var same = r.GetString(0) == agentId && r.GetString(1) == siteId && !r.IsDBNull(2) && r.GetString(2) == sha;
                    if (!same)
                    {
                        return new EvidenceSaveResult(EvidenceSaveOutcome.Conflict, null, r.GetString(1));
                    }

                    if (r.GetInt64(3) == 1 && File.Exists(path))
                    {
                        return new EvidenceSaveResult(EvidenceSaveOutcome.AlreadyStored, new EvidenceFile(id, path, r.GetString(4), siteId, r.GetInt64(5), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(6))), siteId);
                    }

                    // Same owner and bytes, but the earlier attempt died before its file was in place: finish it.
                }
                else
                {
                    r.Close();
                    using var insert = c.CreateCommand();
                    insert.Transaction = tx;
                    insert.CommandText = "INSERT INTO evidence (id, agent_id, site_id, content_type, bytes, created_at, sha256, stored) VALUES ($id, $a, $s, $t, $b, $at, $h, 0)";
                    insert.Parameters.AddWithValue("$id", id);
                    insert.Parameters.AddWithValue("$a", agentId);
                    insert.Parameters.AddWithValue("$s", siteId);
                    insert.Parameters.AddWithValue("$t", contentType);
                    insert.Parameters.AddWithValue("$b", data.LongLength);
                    insert.Parameters.AddWithValue("$at", now.ToUnixTimeMilliseconds());
                    insert.Parameters.AddWithValue("$h", sha);
                    insert.ExecuteNonQuery();
                }
            }

            tx.Commit();
        }

        // 2. The file, complete on disk before it gets its name.
        var tmp = path + "." + Guid.NewGuid().ToString("N")[..8] + PartialSuffix;
        using (var file = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            file.Write(data);
            file.Flush(flushToDisk: true);
        }

        File.Move(tmp, path, overwrite: true);

        // 3. Served from now on.
        using (var c = _db.Open())
        using (var done = c.CreateCommand())
        {
            done.CommandText = "UPDATE evidence SET stored = 1 WHERE id = $id AND sha256 = $h";
            done.Parameters.AddWithValue("$id", id);
            done.Parameters.AddWithValue("$h", sha);
            done.ExecuteNonQuery();
        }

        return new EvidenceSaveResult(EvidenceSaveOutcome.Created, new EvidenceFile(id, path, contentType, siteId, data.LongLength, now), siteId);
    }

    public EvidenceFile? TryOpen(string id)
    {
        if (!IdPattern().IsMatch(id)) return null;
        using var c = _db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT content_type, site_id, bytes, created_at FROM evidence WHERE id = $id AND stored = 1";
        cmd.Parameters.AddWithValue("$id", id);
        using var r = cmd.ExecuteReader();
        if (!r.Read()) return null;
        var path = PathOf(id);
        return File.Exists(path) ? new EvidenceFile(id, path, r.GetString(0), r.GetString(1), r.GetInt64(2), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3))) : null;
    }

    /// <summary>Deletes the row (so it is no longer served), then the file. Returns the site it belonged to, or null when there was none.</summary>
    public string? Delete(string id)
    {
        if (!IdPattern().IsMatch(id)) return null;
        string? site = null;
        using (var c = _db.Open())
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "DELETE FROM evidence WHERE id = $id RETURNING site_id";
            cmd.Parameters.AddWithValue("$id", id);
            site = cmd.ExecuteScalar() as string;
        }

        var path = PathOf(id);
        if (File.Exists(path))
        {
            File.Delete(path);
            site ??= "?";
        }

        return site;
    }

    /// <summary>Deletes evidence older than the retention time; returns the ids that went.</summary>
    public IReadOnlyList<string> DeleteExpired()
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
        return expired;
    }

    /// <summary>
    /// Reconciles what a crash can leave behind: a row whose file never arrived (finished when the file is there and
    /// matches, else removed), a file without a row, and half-written temporary files. Anything younger than the grace
    /// period is left alone (an upload may be in progress). Returns how many rows and files were removed.
    /// </summary>
    public (int Rows, int Files) CleanUpOrphans()
    {
        var grace = _time.GetUtcNow() - TimeSpan.FromMinutes(Options.OrphanGraceMinutes);
        var rows = 0;
        var known = new HashSet<string>(StringComparer.Ordinal);
        using (var c = _db.Open())
        {
            var pending = new List<(string Id, string? Sha)>();
            using (var cmd = c.CreateCommand())
            {
                cmd.CommandText = "SELECT id, stored, sha256, created_at FROM evidence";
                using var r = cmd.ExecuteReader();
                while (r.Read())
                {
                    known.Add(r.GetString(0));
                    if (r.GetInt64(1) == 0 && r.GetInt64(3) < grace.ToUnixTimeMilliseconds()) pending.Add((r.GetString(0), r.IsDBNull(2) ? null : r.GetString(2)));
                }
            }

            foreach (var (id, sha) in pending)
            {
                var path = PathOf(id);
                using var cmd = c.CreateCommand();
                cmd.Parameters.AddWithValue("$id", id);
                if (sha is not null && File.Exists(path) && Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))) == sha)
                {
                    cmd.CommandText = "UPDATE evidence SET stored = 1 WHERE id = $id";
                }
                else
                {
                    cmd.CommandText = "DELETE FROM evidence WHERE id = $id AND stored = 0";
                    known.Remove(id);
                    rows++;
                    if (File.Exists(path)) File.Delete(path);
                }

                cmd.ExecuteNonQuery();
            }
        }

        var files = 0;
        foreach (var file in Directory.EnumerateFiles(_folder))
        {
            var name = Path.GetFileName(file);
            if (known.Contains(name) || File.GetLastWriteTimeUtc(file) > grace.UtcDateTime) continue;
            File.Delete(file);
            files++;
        }

        return (rows, files);
    }

    private string PathOf(string id) => Path.Combine(_folder, id);
}

/// <summary>Applies the evidence retention limit periodically (each deletion in the audit log) and reconciles orphans.</summary>
public sealed partial class EvidenceRetentionService(EvidenceStore store, AuditLog audit, TimeProvider time, ILogger<EvidenceRetentionService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(Math.Max(1, store.Options.CleanupIntervalMinutes)), time);
        do
        {
            try
            {
                foreach (var id in store.DeleteExpired())
                {
                    audit.Write("system", "evidence.expired", id, string.Create(CultureInfo.InvariantCulture, $"older than {store.Options.RetentionDays} days"));
                }

                var (rows, files) = store.CleanUpOrphans();
                if (rows + files > 0)
                {
                    OrphansRemoved(logger, rows, files);
                }
            }
            catch (Exception ex) when (ex is IOException or SqliteException or UnauthorizedAccessException)
            {
                CleanupFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(EventId = 6001, EventName = "EvidenceOrphansRemoved", Level = LogLevel.Warning, Message = "Evidence: {Rows} rows without a file and {Files} files without a row removed (left by an interrupted upload or delete)")]
    private static partial void OrphansRemoved(ILogger logger, int rows, int files);

    [LoggerMessage(EventId = 6002, EventName = "EvidenceCleanupFailed", Level = LogLevel.Error, Message = "Evidence retention or orphan clean-up failed; retried at the next interval")]
    private static partial void CleanupFailed(ILogger logger, Exception exception);
}

using System.Security.Cryptography;
using CinemaVision.Core.Cameras;
using CinemaVision.Server.Configuration;
using CinemaVision.Server.Storage;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Audience;

public sealed class ReferenceFrameSchema : IStateSchema
{
    public string Name => "reference_frames";

    public string CreateSql => """
        CREATE TABLE IF NOT EXISTS reference_frames (
            site_id TEXT NOT NULL,
            auditorium_id TEXT NOT NULL,
            camera_id TEXT NOT NULL,
            mode TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            updated_by TEXT NOT NULL,
            PRIMARY KEY (site_id, auditorium_id, camera_id, mode));
        """;
}

/// <summary>One camera's empty-hall picture for one lighting mode, as stored.</summary>
public sealed record ReferenceFrame(string SiteId, string AuditoriumId, string CameraId, string Mode, long Bytes, string ETag, DateTimeOffset UpdatedAt, string UpdatedBy, string Path);

/// <summary>
/// The empty-hall reference pictures, stored with the auditorium: one JPEG per camera and lighting mode (lit, dim,
/// infrared) under the data folder, replaced when an agent captures a newer one (or an installer calibrates). An
/// agent that is replaced or restarted pulls them back instead of waiting for the next empty hall.
/// </summary>
public sealed class ReferenceFrameStore
{
    /// <summary>Largest accepted picture (a 4K JPEG of an empty hall is well under this).</summary>
    public const int MaxBytes = 8 * 1024 * 1024;

    private readonly StateDatabase _db;
    private readonly TimeProvider _time;
    private readonly string _folder;

    public ReferenceFrameStore(StateDatabase db, IOptions<ServerOptions> server, TimeProvider time)
    {
        _db = db;
        _time = time;
        _folder = Path.Combine(Path.GetFullPath(server.Value.DataDirectory), "references");
    }

    /// <summary>The lighting-mode names a reference may be stored under.</summary>
    public static string Modes => "lit, dim, infrared";

    public static bool IsMode(string mode) => LightingClassifier.TryParse(mode, out var m) && LightingClassifier.Name(m) == mode;

    public ReferenceFrame Save(string siteId, string auditoriumId, string cameraId, string mode, byte[] jpeg, string by)
    {
        var path = PathOf(siteId, auditoriumId, cameraId, mode);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        // Written aside and moved: a reader never sees half a picture.
        var partial = path + ".partial";
        File.WriteAllBytes(partial, jpeg);
        File.Move(partial, path, overwrite: true);
        var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(jpeg))[..32] + "\"";
        var now = _time.GetUtcNow();
        using var c = _db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            INSERT INTO reference_frames (site_id, auditorium_id, camera_id, mode, bytes, sha256, updated_at, updated_by) VALUES ($s, $a, $c, $m, $b, $h, $u, $by)
            ON CONFLICT(site_id, auditorium_id, camera_id, mode) DO UPDATE SET bytes = $b, sha256 = $h, updated_at = $u, updated_by = $by
            """;
        cmd.Parameters.AddWithValue("$s", siteId);
        cmd.Parameters.AddWithValue("$a", auditoriumId);
        cmd.Parameters.AddWithValue("$c", cameraId);
        cmd.Parameters.AddWithValue("$m", mode);
        cmd.Parameters.AddWithValue("$b", jpeg.LongLength);
        cmd.Parameters.AddWithValue("$h", etag);
        cmd.Parameters.AddWithValue("$u", now.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$by", by);
        cmd.ExecuteNonQuery();
        return new ReferenceFrame(siteId, auditoriumId, cameraId, mode, jpeg.LongLength, etag, now, by, path);
    }

    public ReferenceFrame? Get(string siteId, string auditoriumId, string cameraId, string mode) =>
        List(siteId, auditoriumId, cameraId).FirstOrDefault(r => r.Mode == mode);

    public IReadOnlyList<ReferenceFrame> List(string siteId, string auditoriumId, string cameraId)
    {
        using var c = _db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT mode, bytes, sha256, updated_at, updated_by FROM reference_frames WHERE site_id = $s AND auditorium_id = $a AND camera_id = $c ORDER BY mode";
        cmd.Parameters.AddWithValue("$s", siteId);
        cmd.Parameters.AddWithValue("$a", auditoriumId);
        cmd.Parameters.AddWithValue("$c", cameraId);
        using var r = cmd.ExecuteReader();
        var list = new List<ReferenceFrame>();
        while (r.Read())
        {
            var mode = r.GetString(0);
            var path = PathOf(siteId, auditoriumId, cameraId, mode);
            if (!File.Exists(path)) continue;
            list.Add(new ReferenceFrame(siteId, auditoriumId, cameraId, mode, r.GetInt64(1), r.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)), r.GetString(4), path));
        }

        return list;
    }

    // Ids are validated against the id pattern before they reach here, so they are safe path segments.
    private string PathOf(string siteId, string auditoriumId, string cameraId, string mode) =>
        System.IO.Path.Combine(_folder, siteId, auditoriumId, cameraId, mode + ".jpg");
}

using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using CinemaVision.Core.Models;
using CinemaVision.Server.Configuration;
using CinemaVision.Server.Ingest;
using CinemaVision.Server.Storage;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Models;

public sealed class ModelVersionOptions
{
    public const string Section = "CinemaVision:Models";

    /// <summary>Largest accepted model file.</summary>
    public long MaxBytes { get; set; } = 512L * 1024 * 1024;
}

public sealed class ModelVersionSchema : IStateSchema
{
    public string Name => "model-versions";

    public string CreateSql => """
        CREATE TABLE IF NOT EXISTS model_versions (
            name TEXT NOT NULL,
            version TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            manifest TEXT NOT NULL,
            card TEXT,
            uploaded_by TEXT NOT NULL,
            uploaded_at INTEGER NOT NULL,
            PRIMARY KEY (name, version));
        CREATE TABLE IF NOT EXISTS model_assignments (
            site_id TEXT NOT NULL,
            auditorium_id TEXT NOT NULL,
            name TEXT NOT NULL,
            version TEXT NOT NULL,
            assigned_by TEXT NOT NULL,
            assigned_at INTEGER NOT NULL,
            PRIMARY KEY (site_id, auditorium_id));
        CREATE TABLE IF NOT EXISTS model_status (
            site_id TEXT NOT NULL,
            auditorium_id TEXT NOT NULL,
            agent_id TEXT NOT NULL,
            name TEXT NOT NULL,
            version TEXT NOT NULL,
            state TEXT NOT NULL,
            message TEXT,
            reported_at INTEGER NOT NULL,
            PRIMARY KEY (site_id, auditorium_id));
        """;
}

/// <summary>A stored model version: its manifest entry (as in models.json), card and file hash.</summary>
public sealed record StoredModelVersion(string Name, string Version, string Sha256, long Bytes, JsonObject Manifest, ModelCard? Card, string UploadedBy, DateTimeOffset UploadedAt);

/// <summary>Which model an auditorium should run, and what its agent last reported running.</summary>
public sealed record AuditoriumModel(string AuditoriumId, ModelAssignment? Assigned, ModelRunReport? Reported);

public sealed record ModelAssignment(string Name, string Version, string Sha256, string AssignedBy, DateTimeOffset AssignedAt);

/// <summary>What an agent reports about the model of an auditorium: staged, running, failed (kept the previous), rolled-back.</summary>
public sealed record ModelRunReport(string AgentId, string Name, string Version, string State, string? Message, DateTimeOffset ReportedAt);

/// <summary>
/// Model versions kept by the centre: ONNX files under the data folder's <c>models/</c> (written under a temporary
/// name, then moved), hashed on upload, immutable per name and version; per-auditorium assignments; agents' reports.
/// </summary>
public sealed class ModelVersionStore
{
    public static readonly IReadOnlyList<string> RunStates = ["staged", "running", "failed", "rolled-back"];
    private readonly StateDatabase _db;
    private readonly TimeProvider _time;
    private readonly string _folder;

    public ModelVersionStore(StateDatabase db, IOptions<ServerOptions> server, IOptions<ModelVersionOptions> options, TimeProvider time)
    {
        _db = db;
        _time = time;
        Options = options.Value;
        _folder = Path.Combine(Path.GetFullPath(server.Value.DataDirectory), "models");
        Directory.CreateDirectory(_folder);
    }

    public ModelVersionOptions Options { get; }

    /// <summary>Stores an upload; returns the stored version, or a conflict message when the name and version hold other bytes.</summary>
    public async Task<(StoredModelVersion? Stored, bool Created, string? Conflict)> SaveAsync(string name, string version, JsonObject manifest, ModelCard? card, Stream file, string by, CancellationToken ct)
    {
        var tmp = Path.Combine(_folder, $".upload-{Guid.NewGuid():N}");
        string sha;
        long bytes;
        try
        {
            await using (var output = File.Create(tmp))
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[81920];
                int read;
                bytes = 0;
                while ((read = await file.ReadAsync(buffer, ct)) > 0)
                {
                    bytes += read;
                    if (bytes > Options.MaxBytes) throw new InvalidDataException($"the model file exceeds {Options.MaxBytes} bytes.");
                    hash.AppendData(buffer, 0, read);
                    await output.WriteAsync(buffer.AsMemory(0, read), ct);
                }

                sha = Convert.ToHexStringLower(hash.GetHashAndReset());
            }

            if (manifest["sha256"]?.GetValue<string>() is { Length: > 0 } declared && !string.Equals(declared, sha, StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"sha256: the manifest says {declared}, the uploaded file is {sha} (a truncated or different file); nothing was stored.");
            }

            if (Get(name, version) is { } existing)
            {
                return existing.Sha256 == sha ? (existing, false, null) : (null, false, $"{name} {version} already exists with sha256 {existing.Sha256}; this file is {sha}. Versions are immutable: upload it as a new version.");
            }

            manifest["sha256"] = sha;
            var path = PathOf(name, version);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.Move(tmp, path, overwrite: true);
            var now = _time.GetUtcNow();
            using var c = _db.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "INSERT INTO model_versions (name, version, sha256, bytes, manifest, card, uploaded_by, uploaded_at) VALUES ($n, $v, $sha, $b, $m, $card, $by, $at)";
            cmd.Parameters.AddWithValue("$n", name);
            cmd.Parameters.AddWithValue("$v", version);
            cmd.Parameters.AddWithValue("$sha", sha);
            cmd.Parameters.AddWithValue("$b", bytes);
            cmd.Parameters.AddWithValue("$m", manifest.ToJsonString());
            cmd.Parameters.AddWithValue("$card", card is null ? DBNull.Value : JsonSerializer.Serialize(card, IngestJson.Options));
            cmd.Parameters.AddWithValue("$by", by);
            cmd.Parameters.AddWithValue("$at", now.ToUnixTimeMilliseconds());
            cmd.ExecuteNonQuery();
            return (new StoredModelVersion(name, version, sha, bytes, manifest, card, by, now), true, null);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    public IReadOnlyList<StoredModelVersion> List(string? name = null)
    {
        using var c = _db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT name, version, sha256, bytes, manifest, card, uploaded_by, uploaded_at FROM model_versions" + (name is null ? "" : " WHERE name = $n") + " ORDER BY name, uploaded_at";
        if (name is not null) cmd.Parameters.AddWithValue("$n", name);
        using var r = cmd.ExecuteReader();
        var list = new List<StoredModelVersion>();
        while (r.Read())
        {
            list.Add(new StoredModelVersion(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), JsonNode.Parse(r.GetString(4))!.AsObject(),
                r.IsDBNull(5) ? null : JsonSerializer.Deserialize<ModelCard>(r.GetString(5), IngestJson.Options), r.GetString(6), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(7))));
        }

        return list;
    }

    public StoredModelVersion? Get(string name, string version) => List(name).FirstOrDefault(v => v.Version == version);

    public string? FileOf(string name, string version) => Get(name, version) is not null && File.Exists(PathOf(name, version)) ? PathOf(name, version) : null;

    public void Assign(string siteId, string auditoriumId, string name, string version, string by)
    {
        using var c = _db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "INSERT OR REPLACE INTO model_assignments (site_id, auditorium_id, name, version, assigned_by, assigned_at) VALUES ($s, $a, $n, $v, $by, $at)";
        cmd.Parameters.AddWithValue("$s", siteId);
        cmd.Parameters.AddWithValue("$a", auditoriumId);
        cmd.Parameters.AddWithValue("$n", name);
        cmd.Parameters.AddWithValue("$v", version);
        cmd.Parameters.AddWithValue("$by", by);
        cmd.Parameters.AddWithValue("$at", _time.GetUtcNow().ToUnixTimeMilliseconds());
        cmd.ExecuteNonQuery();
    }

    public void Report(string siteId, string auditoriumId, string agentId, string name, string version, string state, string? message)
    {
        using var c = _db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "INSERT OR REPLACE INTO model_status (site_id, auditorium_id, agent_id, name, version, state, message, reported_at) VALUES ($s, $a, $ag, $n, $v, $st, $m, $at)";
        cmd.Parameters.AddWithValue("$s", siteId);
        cmd.Parameters.AddWithValue("$a", auditoriumId);
        cmd.Parameters.AddWithValue("$ag", agentId);
        cmd.Parameters.AddWithValue("$n", name);
        cmd.Parameters.AddWithValue("$v", version);
        cmd.Parameters.AddWithValue("$st", state);
        cmd.Parameters.AddWithValue("$m", (object?)message ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$at", _time.GetUtcNow().ToUnixTimeMilliseconds());
        cmd.ExecuteNonQuery();
    }

    /// <summary>Per auditorium of a site: the assigned version and the agent's last report.</summary>
    public IReadOnlyList<AuditoriumModel> ForSite(string siteId)
    {
        var assigned = new Dictionary<string, ModelAssignment>(StringComparer.Ordinal);
        var reported = new Dictionary<string, ModelRunReport>(StringComparer.Ordinal);
        using var c = _db.Open();
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT a.auditorium_id, a.name, a.version, COALESCE(v.sha256, ''), a.assigned_by, a.assigned_at FROM model_assignments a LEFT JOIN model_versions v ON v.name = a.name AND v.version = a.version WHERE a.site_id = $s";
            cmd.Parameters.AddWithValue("$s", siteId);
            using var r = cmd.ExecuteReader();
            while (r.Read()) assigned[r.GetString(0)] = new ModelAssignment(r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)));
        }

        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT auditorium_id, agent_id, name, version, state, message, reported_at FROM model_status WHERE site_id = $s";
            cmd.Parameters.AddWithValue("$s", siteId);
            using var r = cmd.ExecuteReader();
            while (r.Read()) reported[r.GetString(0)] = new ModelRunReport(r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(6)));
        }

        return assigned.Keys.Union(reported.Keys).Order(StringComparer.Ordinal)
            .Select(a => new AuditoriumModel(a, assigned.GetValueOrDefault(a), reported.GetValueOrDefault(a))).ToList();
    }

    private string PathOf(string name, string version) => Path.Combine(_folder, name, version + ".onnx");
}

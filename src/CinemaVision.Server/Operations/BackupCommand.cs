using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using CinemaVision.Server.Ingest;
using CinemaVision.Server.Storage;
using Microsoft.Data.Sqlite;

namespace CinemaVision.Server.Operations;

/// <summary>
/// <c>CinemaVision.Server backup --out DIR [--data DIR]</c> and <c>CinemaVision.Server restore --from DIR --data DIR [--force]</c>.
/// A backup is online-consistent: the state database and the local time-series database are copied with SQLite's
/// backup API while the service keeps running (each copy is one consistent snapshot), then the evidence files the
/// state snapshot names (they are never changed once stored), the service's TLS identity, and a manifest with every
/// file's size and SHA-256. A restore checks the manifest, refuses a data folder that already holds a service
/// (unless --force, which first moves it aside), copies the files and checks both databases. The restored service
/// brings the schema up to date at start like any upgrade. InfluxDB's own data is backed up with InfluxDB's tools.
/// </summary>
public static class BackupCommand
{
    private const string Manifest = "manifest.json";

    /// <summary>Runs a command named in <paramref name="args"/>; returns its exit code, or null when the service should start.</summary>
    public static int? TryRun(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length == 0 || args[0] is not ("backup" or "restore"))
        {
            return null;
        }

        string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        try
        {
            if (args[0] == "backup")
            {
                var to = Arg("--out") ?? throw new ArgumentException("backup needs --out DIR (a new or empty folder).");
                Backup(DataDirectory(Arg("--data")), to, output);
            }
            else
            {
                var from = Arg("--from") ?? throw new ArgumentException("restore needs --from DIR (a folder written by backup).");
                var data = Arg("--data") ?? throw new ArgumentException("restore needs --data DIR (the data folder to restore into).");
                Restore(from, data, args.Contains("--force"), output);
            }

            return 0;
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or InvalidOperationException or SqliteException or UnauthorizedAccessException)
        {
            error.WriteLine($"{args[0]} failed: {ex.Message}");
            return 1;
        }
    }

    public static string DataDirectory(string? given) => Path.GetFullPath(
        given
        ?? Environment.GetEnvironmentVariable("CINEMAVISION_DATA_DIR")
        ?? Environment.GetEnvironmentVariable("CinemaVision__DataDirectory")
        ?? "data");

    public static void Backup(string dataDirectory, string destination, TextWriter output)
    {
        var state = Path.Combine(dataDirectory, StateDatabase.FileName);
        if (!File.Exists(state))
        {
            throw new InvalidOperationException($"{dataDirectory} holds no {StateDatabase.FileName}: not a data folder of the service.");
        }

        destination = Path.GetFullPath(destination);
        if (Directory.Exists(destination) && Directory.EnumerateFileSystemEntries(destination).Any())
        {
            throw new InvalidOperationException($"{destination} is not empty; back up into a new folder.");
        }

        Directory.CreateDirectory(destination);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(destination, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var files = new List<string>();
        foreach (var name in new[] { StateDatabase.FileName, IngestDatabase.FileName })
        {
            var source = Path.Combine(dataDirectory, name);
            if (!File.Exists(source)) continue;
            CopyDatabase(source, Path.Combine(destination, name));
            files.Add(name);
        }

        // The evidence the snapshot knows about: stored files are immutable, so copying them after the snapshot is consistent.
        var evidence = Path.Combine(dataDirectory, "evidence");
        int copied = 0, missing = 0;
        Directory.CreateDirectory(Path.Combine(destination, "evidence"));
        foreach (var id in StoredEvidence(Path.Combine(destination, StateDatabase.FileName)))
        {
            var file = Path.Combine(evidence, id);
            if (!File.Exists(file))
            {
                missing++; // deleted (retention, a person) since the snapshot
                continue;
            }

            File.Copy(file, Path.Combine(destination, "evidence", id));
            files.Add("evidence/" + id);
            copied++;
        }

        var tls = Path.Combine(dataDirectory, ServerCertificate.Folder);
        if (Directory.Exists(tls))
        {
            Directory.CreateDirectory(Path.Combine(destination, ServerCertificate.Folder));
            foreach (var file in Directory.GetFiles(tls))
            {
                var name = ServerCertificate.Folder + "/" + Path.GetFileName(file);
                File.Copy(file, Path.Combine(destination, name));
                files.Add(name);
            }
        }

        var manifest = new JsonObject
        {
            ["format"] = 1,
            ["createdAt"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["source"] = dataDirectory,
            ["stateSchema"] = UserVersion(Path.Combine(destination, StateDatabase.FileName)),
            ["timeSeriesSchema"] = files.Contains(IngestDatabase.FileName) ? UserVersion(Path.Combine(destination, IngestDatabase.FileName)) : null,
            ["evidenceFiles"] = copied,
            ["evidenceGoneSinceSnapshot"] = missing,
            ["files"] = new JsonArray([.. files.Select(f => (JsonNode)new JsonObject { ["path"] = f, ["bytes"] = new FileInfo(Path.Combine(destination, f)).Length, ["sha256"] = Sha256(Path.Combine(destination, f)) })]),
        };
        File.WriteAllText(Path.Combine(destination, Manifest), manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        output.WriteLine($"backup: {string.Join(", ", files.Where(f => !f.StartsWith("evidence/", StringComparison.Ordinal)))}, {copied} evidence file(s) -> {destination}");
    }

    public static void Restore(string source, string dataDirectory, bool force, TextWriter output)
    {
        source = Path.GetFullPath(source);
        dataDirectory = Path.GetFullPath(dataDirectory);
        var manifestPath = Path.Combine(source, Manifest);
        if (!File.Exists(manifestPath))
        {
            throw new InvalidOperationException($"{source} has no {Manifest}: not a backup.");
        }

        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!.AsObject();
        var files = manifest["files"]!.AsArray().Select(f => (Path: f!["path"]!.GetValue<string>(), Sha: f["sha256"]!.GetValue<string>())).ToList();
        foreach (var (path, sha) in files)
        {
            var full = Path.GetFullPath(Path.Combine(source, path));
            if (!full.StartsWith(source + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"the manifest names '{path}', outside the backup.");
            }

            if (!File.Exists(full) || Sha256(full) != sha)
            {
                throw new InvalidOperationException($"{path} is missing or damaged (its SHA-256 differs from the manifest); nothing was restored.");
            }
        }

        if (File.Exists(Path.Combine(dataDirectory, StateDatabase.FileName)))
        {
            if (!force)
            {
                throw new InvalidOperationException($"{dataDirectory} already holds a service's data; restore into a new folder, or add --force to move it aside first.");
            }

            var aside = dataDirectory.TrimEnd(Path.DirectorySeparatorChar) + ".before-restore-" + DateTimeOffset.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
            Directory.Move(dataDirectory, aside);
            output.WriteLine($"restore: the existing data moved to {aside}");
        }

        Directory.CreateDirectory(dataDirectory);
        foreach (var (path, _) in files)
        {
            var target = Path.Combine(dataDirectory, path);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(source, path), target, overwrite: true);
            foreach (var suffix in new[] { "-wal", "-shm" })
            {
                File.Delete(target + suffix);
            }
        }

        foreach (var name in new[] { StateDatabase.FileName, IngestDatabase.FileName })
        {
            var db = Path.Combine(dataDirectory, name);
            if (File.Exists(db) && IntegrityCheck(db) is not "ok" and var problem)
            {
                throw new InvalidOperationException($"{name} failed its integrity check after the copy: {problem}");
            }
        }

        if (File.Exists(Path.Combine(dataDirectory, ServerCertificate.Folder, ServerCertificate.PfxFile)) && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(dataDirectory, ServerCertificate.Folder, ServerCertificate.PfxFile), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        output.WriteLine($"restore: {files.Count} file(s) from {source} (made {manifest["createdAt"]}) -> {dataDirectory}");
    }

    private static void CopyDatabase(string source, string destination)
    {
        using var from = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = source, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        using var to = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = destination, Pooling = false }.ToString());
        from.Open();
        to.Open();
        using (var busy = from.CreateCommand())
        {
            busy.CommandText = "PRAGMA busy_timeout=10000;";
            busy.ExecuteNonQuery();
        }

        from.BackupDatabase(to);
        using var mode = to.CreateCommand();
        mode.CommandText = "PRAGMA journal_mode=DELETE;";
        mode.ExecuteNonQuery();
        if (IntegrityCheck(to) is not "ok" and var problem)
        {
            throw new InvalidOperationException($"the copy of {Path.GetFileName(source)} failed its integrity check: {problem}");
        }
    }

    private static List<string> StoredEvidence(string stateCopy)
    {
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = stateCopy, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM pragma_table_info('evidence') WHERE name = 'stored'";
        var hasStored = Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) > 0;
        cmd.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'evidence'";
        if (Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) == 0) return [];
        cmd.CommandText = hasStored ? "SELECT id FROM evidence WHERE stored = 1" : "SELECT id FROM evidence";
        using var r = cmd.ExecuteReader();
        var ids = new List<string>();
        while (r.Read())
        {
            var id = r.GetString(0);
            if (Evidence.EvidenceStore.IdPattern().IsMatch(id)) ids.Add(id);
        }

        return ids;
    }

    private static long UserVersion(string db)
    {
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = db, Pooling = false }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA user_version;";
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static string IntegrityCheck(string db)
    {
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = db, Pooling = false }.ToString());
        c.Open();
        return IntegrityCheck(c);
    }

    private static string IntegrityCheck(SqliteConnection c)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA integrity_check;";
        return cmd.ExecuteScalar() as string ?? "no answer";
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}

using System.Globalization;
using Microsoft.Data.Sqlite;

namespace CinemaVision.Server.Storage;

/// <summary>
/// One versioned change to an existing database file, applied once, in order, inside its own transaction.
/// Rule for writing one: it runs before the features' <c>CREATE TABLE IF NOT EXISTS</c> statements, so a table it
/// changes may not exist yet in a very old file (skip it then: the latest CREATE makes it in its final shape).
/// </summary>
public sealed record SchemaMigration(int Version, string Name, Action<SqliteConnection, SqliteTransaction> Apply);

/// <summary>
/// Brings a SQLite file to the schema this release writes. The version lives in <c>PRAGMA user_version</c> and every
/// applied step in <c>schema_migrations</c>. A new file gets the latest tables and is stamped with the latest
/// version; a file from a previous release (version 0 = before versioning) gets each pending step; a file written by
/// a newer release is refused rather than damaged.
/// </summary>
public static class SchemaMigrator
{
    /// <summary>Applies what is pending; returns the versions applied (empty for a new or current file).</summary>
    public static IReadOnlyList<int> Migrate(SqliteConnection connection, string databaseName, IReadOnlyList<SchemaMigration> migrations, Action<SqliteConnection> createLatest)
    {
        var latest = migrations.Count == 0 ? 0 : migrations.Max(m => m.Version);
        if (migrations.Select(m => m.Version).Distinct().Count() != migrations.Count)
        {
            throw new InvalidOperationException($"{databaseName}: two migrations share a version number.");
        }

        var current = UserVersion(connection, null);
        if (current > latest)
        {
            throw new InvalidOperationException(
                $"{databaseName} has schema version {current}, written by a newer release; this release knows up to {latest}. Run the newer release, or restore a backup made by this one.");
        }

        var fresh = !HasUserTables(connection);
        Exec(connection, null, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);");
        var applied = new List<int>();
        if (fresh)
        {
            createLatest(connection);
            using var tx = connection.BeginTransaction();
            foreach (var m in migrations.OrderBy(m => m.Version))
            {
                Record(connection, tx, m, "baseline");
            }

            SetUserVersion(connection, tx, latest);
            tx.Commit();
            return applied;
        }

        foreach (var m in migrations.Where(m => m.Version > current).OrderBy(m => m.Version))
        {
            using var tx = connection.BeginTransaction();
            m.Apply(connection, tx);
            Record(connection, tx, m, null);
            SetUserVersion(connection, tx, m.Version);
            tx.Commit();
            applied.Add(m.Version);
        }

        createLatest(connection);
        return applied;
    }

    public static int UserVersion(SqliteConnection connection, SqliteTransaction? tx) =>
        Convert.ToInt32(Scalar(connection, tx, "PRAGMA user_version;"), CultureInfo.InvariantCulture);

    public static bool TableExists(SqliteConnection connection, SqliteTransaction? tx, string table) =>
        Convert.ToInt64(Scalar(connection, tx, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $p;", table), CultureInfo.InvariantCulture) > 0;

    public static bool ColumnExists(SqliteConnection connection, SqliteTransaction? tx, string table, string column) =>
        Convert.ToInt64(Scalar(connection, tx, $"SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = $p;", column), CultureInfo.InvariantCulture) > 0;

    /// <summary>Adds a column unless the table lacks or already has it (SQLite has no ADD COLUMN IF NOT EXISTS).</summary>
    public static void AddColumnIfMissing(SqliteConnection connection, SqliteTransaction tx, string table, string column, string definition)
    {
        if (TableExists(connection, tx, table) && !ColumnExists(connection, tx, table, column))
        {
            Exec(connection, tx, $"ALTER TABLE {table} ADD COLUMN {column} {definition};");
        }
    }

    public static void Exec(SqliteConnection connection, SqliteTransaction? tx, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, SqliteTransaction? tx, string sql, object? p = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        if (p is not null)
        {
            command.Parameters.AddWithValue("$p", p);
        }

        return command.ExecuteScalar();
    }

    private static bool HasUserTables(SqliteConnection connection) =>
        Convert.ToInt64(Scalar(connection, null, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations';"), CultureInfo.InvariantCulture) > 0;

    private static void Record(SqliteConnection connection, SqliteTransaction tx, SchemaMigration m, string? note)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "INSERT OR REPLACE INTO schema_migrations(version, name, applied_at) VALUES ($v, $n, $at);";
        command.Parameters.AddWithValue("$v", m.Version);
        command.Parameters.AddWithValue("$n", note is null ? m.Name : $"{m.Name} ({note})");
        command.Parameters.AddWithValue("$at", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        command.ExecuteNonQuery();
    }

    private static void SetUserVersion(SqliteConnection connection, SqliteTransaction tx, int version) =>
        Exec(connection, tx, $"PRAGMA user_version = {version.ToString(CultureInfo.InvariantCulture)};");
}

using Microsoft.Data.Sqlite;

namespace CinemaVision.Server.Storage;

/// <summary>
/// The relational state store (SQLite by default). Features contribute their own tables through
/// <see cref="IStateSchema"/> registrations; <see cref="EnsureCreated"/> applies them all at start.
/// </summary>
public sealed class StateDatabase
{
    private readonly string _connectionString;
    private readonly IEnumerable<IStateSchema> _schemas;

    public StateDatabase(string connectionString, IEnumerable<IStateSchema> schemas)
    {
        _connectionString = connectionString;
        _schemas = schemas;
    }

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    public void EnsureCreated()
    {
        using var connection = Open();
        foreach (var schema in _schemas)
        {
            using var command = connection.CreateCommand();
            command.CommandText = schema.CreateSql;
            command.ExecuteNonQuery();
            schema.Upgrade(connection);
        }
    }
}

/// <summary>A feature's tables, created idempotently (CREATE TABLE IF NOT EXISTS ...).</summary>
public interface IStateSchema
{
    string Name { get; }

    string CreateSql { get; }

    /// <summary>Brings tables created by an older version up to date (e.g. adds columns); runs after <see cref="CreateSql"/>.</summary>
    void Upgrade(SqliteConnection connection)
    {
    }
}

/// <summary>Helpers for <see cref="IStateSchema.Upgrade"/>.</summary>
public static class StateSchemaUpgrade
{
    /// <summary>Adds a column unless the table already has it (SQLite has no ADD COLUMN IF NOT EXISTS).</summary>
    public static void AddColumnIfMissing(SqliteConnection connection, string table, string column, string definition)
    {
        using (var info = connection.CreateCommand())
        {
            info.CommandText = $"SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = $c;";
            info.Parameters.AddWithValue("$c", column);
            if (Convert.ToInt64(info.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0) return;
        }

        using var alter = connection.CreateCommand();
        alter.CommandText = $"ALTER TABLE {table} ADD COLUMN {column} {definition};";
        alter.ExecuteNonQuery();
    }
}

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
        }
    }
}

/// <summary>A feature's tables, created idempotently (CREATE TABLE IF NOT EXISTS ...).</summary>
public interface IStateSchema
{
    string Name { get; }

    string CreateSql { get; }
}

using Microsoft.Data.Sqlite;

namespace CinemaVision.Server.Storage;

/// <summary>
/// The relational state store (SQLite by default): agents, people, alerts, evidence, schedules. Features contribute
/// their own tables through <see cref="IStateSchema"/> registrations; changes to existing tables are versioned steps
/// in <see cref="StateMigrations"/>; <see cref="EnsureCreated"/> applies both at start.
/// </summary>
public sealed class StateDatabase
{
    /// <summary>The file name inside the data folder (backups and restores use it too).</summary>
    public const string FileName = "state.db";

    private readonly string _connectionString;
    private readonly IEnumerable<IStateSchema> _schemas;

    public StateDatabase(string connectionString, IEnumerable<IStateSchema> schemas)
    {
        _connectionString = connectionString;
        _schemas = schemas;
        Path = new SqliteConnectionStringBuilder(connectionString).DataSource;
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();

        // WAL with synchronous=FULL: a committed change (an acknowledged alert, a revoked key) survives a power cut.
        pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    /// <summary>Creates the tables of a new file, or brings a file of a previous release up to date. Returns the steps applied.</summary>
    public IReadOnlyList<int> EnsureCreated()
    {
        using var connection = Open();
        return SchemaMigrator.Migrate(connection, FileName, StateMigrations.All, c =>
        {
            foreach (var schema in _schemas)
            {
                using var command = c.CreateCommand();
                command.CommandText = schema.CreateSql;
                command.ExecuteNonQuery();
            }
        });
    }
}

/// <summary>A feature's tables in their latest shape, created idempotently (CREATE TABLE IF NOT EXISTS ...).</summary>
public interface IStateSchema
{
    string Name { get; }

    string CreateSql { get; }
}


using System.Globalization;
using CinemaVision.Server.Storage;
using Microsoft.Data.Sqlite;

namespace CinemaVision.Server.Ingest;

/// <summary>
/// The local, durable file every accepted batch is committed to before the agent gets its answer
/// (<c>timeseries.db</c> in the data folder): the idempotency ledger, the alert signals still to be turned into
/// alerts, and the events themselves (the embedded store's series, or the backlog waiting to be forwarded to
/// InfluxDB). One file, so one transaction covers all of them. WAL with <c>synchronous=FULL</c>: a commit is on disk
/// before the answer leaves, so neither a crash nor a power cut loses an acknowledged event.
/// Writes go through one connection under a short local lock (SQLite has one writer anyway); nothing holds it
/// across network I/O. Reads open their own pooled connections and run alongside.
/// </summary>
public sealed class IngestDatabase : IDisposable
{
    public const string FileName = "timeseries.db";

    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private SqliteConnection? _writer;

    /// <param name="path">The file (created when missing).</param>
    /// <param name="statePath">The state database of the same data folder: a first-release ledger there is moved here.</param>
    public IngestDatabase(string path, string? statePath = null)
    {
        Path = path;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        using var connection = OpenReader();
        var attached = statePath is not null && File.Exists(statePath);
        if (attached)
        {
            using var attach = connection.CreateCommand();
            attach.CommandText = "ATTACH DATABASE $p AS state;";
            attach.Parameters.AddWithValue("$p", statePath);
            attach.ExecuteNonQuery();
        }

        Applied = SchemaMigrator.Migrate(connection, FileName, TimeSeriesMigrations.All, c => SchemaMigrator.Exec(c, null, TimeSeriesMigrations.LatestSchema));
        if (attached)
        {
            // The first release kept the ledger in state.db: copy it here (committed first), then drop the old table.
            // A crash in between repeats the copy at the next start (INSERT OR IGNORE), so no item id is forgotten.
            using (var probe = connection.CreateCommand())
            {
                probe.CommandText = "SELECT COUNT(*) FROM state.sqlite_master WHERE type = 'table' AND name = 'ingested_items';";
                if (Convert.ToInt64(probe.ExecuteScalar(), CultureInfo.InvariantCulture) > 0)
                {
                    using var tx = connection.BeginTransaction();
                    SchemaMigrator.Exec(connection, tx, "INSERT OR IGNORE INTO ingested_items(agent_id, item_id, batch_id, stored_at) SELECT agent_id, item_id, batch_id, stored_at FROM state.ingested_items;");
                    tx.Commit();
                    SchemaMigrator.Exec(connection, null, "DROP TABLE state.ingested_items;");
                }
            }

            SchemaMigrator.Exec(connection, null, "DETACH DATABASE state;");
        }
    }

    public string Path { get; }

    /// <summary>Migration steps applied when this file was opened (empty for a new or current file).</summary>
    public IReadOnlyList<int> Applied { get; }

    public SqliteConnection OpenReader()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    /// <summary>Runs <paramref name="work"/> in one local write transaction and commits it. Cancellable only while waiting for the writer.</summary>
    public async ValueTask<T> WriteAsync<T>(Func<SqliteTransaction, T> work, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            return Run(work);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public T Write<T>(Func<SqliteTransaction, T> work)
    {
        _writeLock.Wait();
        try
        {
            return Run(work);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public long Count(string table)
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {table};";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        _writer?.Dispose();
        _writeLock.Dispose();
    }

    private T Run<T>(Func<SqliteTransaction, T> work)
    {
        try
        {
            _writer ??= OpenReader();
            using var tx = _writer.BeginTransaction(deferred: false);
            var result = work(tx);
            tx.Commit();
            return result;
        }
        catch (SqliteException)
        {
            // A broken write connection is reopened by the next writer.
            _writer?.Dispose();
            _writer = null;
            throw;
        }
    }
}

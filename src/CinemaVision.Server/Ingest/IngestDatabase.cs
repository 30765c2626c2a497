using System.Globalization;
using System.Threading.Channels;
using CinemaVision.Server.Storage;
using Microsoft.Data.Sqlite;

namespace CinemaVision.Server.Ingest;

/// <summary>
/// The local, durable file every accepted batch is committed to before the agent gets its answer
/// (<c>timeseries.db</c> in the data folder): the idempotency ledger, the alert signals still to be turned into
/// alerts, and the events themselves (the embedded store's series, or the backlog waiting to be forwarded to
/// InfluxDB). One file, so one transaction covers all of them. WAL with <c>synchronous=FULL</c>: a commit is on disk
/// before the answer leaves, so neither a crash nor a power cut loses an acknowledged event.
/// Writes go through one connection on one writer thread, concurrent ones committed together (SQLite has one writer
/// anyway, and one fsync per group instead of per batch keeps synchronous=FULL affordable); nothing holds the writer
/// across network I/O. Reads open their own pooled connections and run alongside.
/// </summary>
public sealed class IngestDatabase : IDisposable
{
    public const string FileName = "timeseries.db";

    private const int MaxGroup = 64;
    private readonly string _connectionString;
    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private Thread? _thread;
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

    /// <summary>
    /// Runs <paramref name="work"/> in a local write transaction and returns once it is committed (on disk).
    /// Concurrent writers are committed together (group commit): one writer thread takes every write waiting, runs
    /// each inside its own savepoint (one that throws is rolled back alone and its caller gets the exception) and
    /// commits them with one fsync. Cancellable only until the write is queued.
    /// </summary>
    public async ValueTask<T> WriteAsync<T>(Func<SqliteTransaction, T> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var pending = new PendingWrite<T>(work);
        EnsureWriterThread();
        ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(pending), this);

        return await pending.Task.ConfigureAwait(false);
    }

    /// <summary>The same, for callers that are not async (background workers).</summary>
    public T Write<T>(Func<SqliteTransaction, T> work) => WriteAsync(work, CancellationToken.None).AsTask().GetAwaiter().GetResult();

    public long Count(string table)
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {table};";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _thread?.Join(TimeSpan.FromSeconds(10));
        _writer?.Dispose();
    }

    private void EnsureWriterThread()
    {
        if (_thread is not null)
        {
            return;
        }

        lock (_queue)
        {
            if (_thread is null)
            {
                _thread = new Thread(WriterLoop) { IsBackground = true, Name = "ingest-db-writer" };
                _thread.Start();
            }
        }
    }

    private void WriterLoop()
    {
        var group = new List<PendingWrite>(MaxGroup);
        while (_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            group.Clear();
            while (group.Count < MaxGroup && _queue.Reader.TryRead(out var next))
            {
                group.Add(next);
            }

            try
            {
                _writer ??= OpenReader();
                using (var tx = _writer.BeginTransaction(deferred: false))
                {
                    foreach (var write in group)
                    {
                        Savepoint(tx, "SAVEPOINT w;");
                        try
                        {
                            write.Run(tx);
                            Savepoint(tx, "RELEASE w;");
                        }
                        catch (Exception ex)
                        {
                            Savepoint(tx, "ROLLBACK TO w; RELEASE w;");
                            write.Fail(ex);
                        }
                    }

                    tx.Commit();
                }

                foreach (var write in group)
                {
                    write.Complete();
                }
            }
            catch (Exception ex)
            {
                // The commit (or the connection) failed: nothing of the group is stored; every caller hears it.
                _writer?.Dispose();
                _writer = null;
                foreach (var write in group)
                {
                    write.Fail(ex);
                }
            }
        }
    }

    private static void Savepoint(SqliteTransaction tx, string sql)
    {
        using var cmd = tx.Connection!.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private abstract class PendingWrite
    {
        public abstract void Run(SqliteTransaction tx);

        public abstract void Complete();

        public abstract void Fail(Exception ex);
    }

    private sealed class PendingWrite<T>(Func<SqliteTransaction, T> work) : PendingWrite
    {
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;
        private bool _failed;

        public Task<T> Task => _done.Task;

        public override void Run(SqliteTransaction tx) => _result = work(tx);

        public override void Complete()
        {
            if (!_failed)
            {
                _done.TrySetResult(_result!);
            }
        }

        public override void Fail(Exception ex)
        {
            _failed = true;
            _done.TrySetException(ex);
        }
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using CinemaVision.Core.Events;
using CinemaVision.Server.Configuration;
using CinemaVision.Server.Ingest;
using CinemaVision.Server.Operations;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Storage.TimeSeries;

/// <summary>What the forwarder is doing, for health and the admin view.</summary>
public enum ForwarderState
{
    /// <summary>Nothing waiting.</summary>
    Idle = 0,
    Forwarding = 1,

    /// <summary>InfluxDB is slow, down or answering 5xx/429: retrying with backoff; the backlog grows.</summary>
    Retrying = 2,

    /// <summary>InfluxDB refuses the credentials, database or mapping (401/403/404): retrying until fixed.</summary>
    Misconfigured = 3,
}

public sealed record ForwarderStatus(ForwarderState State, DateTimeOffset? LastSuccessAt, DateTimeOffset? LastFailureAt, string? LastError, int ConsecutiveFailures);

/// <summary>A point InfluxDB refused for good, kept for the administrator (never retried on its own).</summary>
public sealed record DeadLetter(long Seq, string EventId, string Type, int Status, string Error, DateTimeOffset FailedAt);

/// <summary>
/// Drains the ingest backlog into InfluxDB in the background (provider Influx). Accepted events wait in the local
/// ingest database (<see cref="IngestDatabase"/>, written in the ingest transaction); the forwarder sends them in
/// order in chunks, deletes what was written, and never holds a database transaction or lock across the HTTP call.
/// Timeouts, connection errors, 5xx and 429 are retried with exponential backoff and jitter (honouring Retry-After);
/// refused credentials or a missing database are retried too, and reported. A 4xx for points is permanent: the
/// chunk is split until the refused points are found, which are set aside as dead letters (reported in health and
/// metrics) while the rest is written. A crash between the write and the delete re-sends the chunk; every point
/// has a fixed series and time, so InfluxDB stores it once.
/// </summary>
public sealed partial class InfluxForwarder : BackgroundService, IEventSink
{
    private readonly IngestDatabase _db;
    private readonly InfluxTimeSeriesStore _store;
    private readonly IngestBacklog _backlog;
    private readonly ServerMetrics _metrics;
    private readonly InfluxOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<InfluxForwarder> _logger;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private ForwarderStatus _status = new(ForwarderState.Idle, null, null, null, 0);

    public InfluxForwarder(IngestDatabase db, InfluxTimeSeriesStore store, IngestBacklog backlog, ServerMetrics metrics, IOptions<ServerOptions> options, TimeProvider time, ILogger<InfluxForwarder> logger)
    {
        _db = db;
        _store = store;
        _backlog = backlog;
        _metrics = metrics;
        _options = options.Value.TimeSeries.Influx;
        _time = time;
        _logger = logger;
    }

    public ForwarderStatus Status => _status;

    public void Write(SqliteTransaction tx, IReadOnlyList<EdgeEvent> events)
    {
        using var insert = tx.Connection!.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = "INSERT INTO forward_queue(body, enqueued_at) VALUES ($body, $at);";
        var body = insert.Parameters.Add("$body", SqliteType.Text);
        insert.Parameters.AddWithValue("$at", _time.GetUtcNow().ToUnixTimeMilliseconds());
        foreach (var e in events)
        {
            body.Value = IngestJson.Serialize(e);
            insert.ExecuteNonQuery();
        }
    }

    public void Committed(int count) => Wake();

    /// <summary>When the oldest waiting event was accepted, or null when none waits.</summary>
    public DateTimeOffset? OldestPendingAt()
    {
        using var c = _db.OpenReader();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT enqueued_at FROM forward_queue ORDER BY seq LIMIT 1;";
        return cmd.ExecuteScalar() is long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
    }

    public IReadOnlyList<DeadLetter> DeadLetters(int limit)
    {
        using var c = _db.OpenReader();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT seq, body, status, error, failed_at FROM forward_dead_letters ORDER BY seq DESC LIMIT $n;";
        cmd.Parameters.AddWithValue("$n", limit);
        using var r = cmd.ExecuteReader();
        var list = new List<DeadLetter>();
        while (r.Read())
        {
            var (id, type) = Describe(r.GetString(1));
            list.Add(new DeadLetter(r.GetInt64(0), id, type, r.GetInt32(2), r.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4))));
        }

        return list;
    }

    /// <summary>Puts every dead letter back in the backlog (after the cause was fixed, e.g. a longer retention). Returns how many.</summary>
    public int RequeueDeadLetters()
    {
        var moved = _db.Write(tx =>
        {
            using var cmd = tx.Connection!.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT INTO forward_queue(body, enqueued_at) SELECT body, $now FROM forward_dead_letters ORDER BY seq; DELETE FROM forward_dead_letters;";
            cmd.Parameters.AddWithValue("$now", _time.GetUtcNow().ToUnixTimeMilliseconds());
            return cmd.ExecuteNonQuery();
        });
        var requeued = moved / 2;
        _backlog.ForwardAdded(requeued);
        _backlog.DeadLettered(-requeued);
        Wake();
        return requeued;
    }

    public void Wake()
    {
        try
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        }
        catch (SemaphoreFullException)
        {
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var chunk = ReadChunk(_options.MaxPointsPerWrite);
            if (chunk.Count == 0)
            {
                _status = _status with { State = ForwarderState.Idle };
                await WaitAsync(TimeSpan.FromSeconds(1), stoppingToken);
                continue;
            }

            _status = _status with { State = failures == 0 ? ForwarderState.Forwarding : _status.State };
            var failure = await ForwardAsync(chunk, stoppingToken);
            if (failure is null)
            {
                failures = 0;
                _metrics.InfluxUp.Set(1);
                _status = _status with { LastSuccessAt = _time.GetUtcNow(), ConsecutiveFailures = 0 };
                continue;
            }

            failures++;
            _metrics.InfluxUp.Set(0);
            _metrics.ForwardRetry(failure.Result == InfluxWriteResult.Misconfigured ? "refused" : failure.Status == 0 ? "unreachable" : failure.Status.ToString(CultureInfo.InvariantCulture));
            var state = failure.Result == InfluxWriteResult.Misconfigured ? ForwarderState.Misconfigured : ForwarderState.Retrying;
            _status = new ForwarderStatus(state, _status.LastSuccessAt, _time.GetUtcNow(), failure.Status == 0 ? failure.Error : $"HTTP {failure.Status}: {failure.Error}", failures);
            var delay = Backoff(failures, failure.RetryAfter);
            ForwardFailed(_logger, failure.Status, failure.Error ?? "?", failures, delay.TotalSeconds, _backlog.ForwardPending);
            try
            {
                await Task.Delay(delay, _time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Writes the chunk; null when every event was written or set aside, else the failure that stopped it.</summary>
    private async Task<InfluxWriteOutcome?> ForwardAsync(List<(long Seq, string Body)> chunk, CancellationToken ct)
    {
        var lines = new List<(long Seq, string Policy, string Line)>(chunk.Count);
        foreach (var (seq, body) in chunk)
        {
            try
            {
                var (policy, line) = InfluxTimeSeriesStore.ToLine(IngestJson.Deserialize(body));
                lines.Add((seq, policy, line));
            }
            catch (Exception ex) when (ex is LineProtocolException or JsonException)
            {
                SetAside([(seq, body)], 0, $"cannot be written as line protocol: {ex.Message}");
            }
        }

        // Order is kept within each retention policy; policies are independent series.
        foreach (var group in lines.GroupBy(l => l.Policy))
        {
            var failure = await DeliverAsync(group.Key, group.ToList(), ct);
            if (failure is not null)
            {
                return failure;
            }
        }

        return null;
    }

    private async Task<InfluxWriteOutcome?> DeliverAsync(string policy, List<(long Seq, string Policy, string Line)> items, CancellationToken ct)
    {
        var outcome = await _store.TryWriteLinesAsync(policy, [.. items.Select(i => i.Line)], ct);
        switch (outcome.Result)
        {
            case InfluxWriteResult.Written:
                Delete(items.Select(i => i.Seq).ToList());
                _metrics.Forwarded(items.Count);
                return null;
            case InfluxWriteResult.Rejected when items.Count == 1:
                var body = ReadBody(items[0].Seq);
                if (body is not null)
                {
                    SetAside([(items[0].Seq, body)], outcome.Status, outcome.Error ?? "refused");
                }

                return null;
            case InfluxWriteResult.Rejected:
                // Which points? Halve until the refused ones are alone; the others are written on the way.
                var half = items.Count / 2;
                return await DeliverAsync(policy, items[..half], ct) ?? await DeliverAsync(policy, items[half..], ct);
            default:
                return outcome;
        }
    }

    private List<(long Seq, string Body)> ReadChunk(int limit)
    {
        using var c = _db.OpenReader();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT seq, body FROM forward_queue ORDER BY seq LIMIT $n;";
        cmd.Parameters.AddWithValue("$n", limit);
        using var r = cmd.ExecuteReader();
        var list = new List<(long, string)>();
        while (r.Read())
        {
            list.Add((r.GetInt64(0), r.GetString(1)));
        }

        return list;
    }

    private string? ReadBody(long seq)
    {
        using var c = _db.OpenReader();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT body FROM forward_queue WHERE seq = $s;";
        cmd.Parameters.AddWithValue("$s", seq);
        return cmd.ExecuteScalar() as string;
    }

    private void Delete(List<long> seqs)
    {
        var removed = _db.Write(tx =>
        {
            using var cmd = tx.Connection!.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "DELETE FROM forward_queue WHERE seq = $s;";
            var p = cmd.Parameters.Add("$s", SqliteType.Integer);
            var n = 0;
            foreach (var seq in seqs)
            {
                p.Value = seq;
                n += cmd.ExecuteNonQuery();
            }

            return n;
        });
        _backlog.ForwardRemoved(removed);
    }

    private void SetAside(List<(long Seq, string Body)> items, int status, string error)
    {
        var moved = _db.Write(tx =>
        {
            using var cmd = tx.Connection!.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT OR REPLACE INTO forward_dead_letters(seq, body, status, error, failed_at) VALUES ($s, $b, $st, $e, $at); DELETE FROM forward_queue WHERE seq = $s;";
            var s = cmd.Parameters.Add("$s", SqliteType.Integer);
            var b = cmd.Parameters.Add("$b", SqliteType.Text);
            cmd.Parameters.AddWithValue("$st", status);
            cmd.Parameters.AddWithValue("$e", error.Length > 2000 ? error[..2000] : error);
            cmd.Parameters.AddWithValue("$at", _time.GetUtcNow().ToUnixTimeMilliseconds());
            foreach (var (seq, body) in items)
            {
                s.Value = seq;
                b.Value = body;
                cmd.ExecuteNonQuery();
            }

            return items.Count;
        });
        _backlog.ForwardRemoved(moved);
        _backlog.DeadLettered(moved);
        _metrics.DeadLettered(moved);
        foreach (var (_, body) in items)
        {
            var (id, type) = Describe(body);
            DeadLettered(_logger, type, id, status, error);
        }
    }

    private static (string Id, string Type) Describe(string body)
    {
        try
        {
            var e = IngestJson.Deserialize(body);
            return (e.Id, e.Type);
        }
        catch (JsonException)
        {
            return ("?", "?");
        }
    }

    private async Task WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            await _wake.WaitAsync(timeout, ct);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static TimeSpan Backoff(int failures, TimeSpan? retryAfter)
    {
        if (retryAfter is { } server && server > TimeSpan.Zero)
        {
            return server < TimeSpan.FromSeconds(60) ? server : TimeSpan.FromSeconds(60);
        }

        // 0.5 s doubling to 30 s, with jitter so a recovering server is not hit in step.
        var ceiling = Math.Min(30_000, 500 * (1 << Math.Min(failures - 1, 6)));
        return TimeSpan.FromMilliseconds((ceiling / 2) + RandomNumberGenerator.GetInt32((ceiling / 2) + 1));
    }

    [LoggerMessage(EventId = 3201, EventName = "ForwardFailed", Level = LogLevel.Warning, Message = "Writing to InfluxDB failed ({Status}: {Error}), attempt {Attempt}; retrying in {Seconds:0.0} s with {Pending} events waiting")]
    private static partial void ForwardFailed(ILogger logger, int status, string error, int attempt, double seconds, long pending);

    [LoggerMessage(EventId = 3202, EventName = "DeadLettered", Level = LogLevel.Error, Message = "InfluxDB refused {Type} event {EventId} for good ({Status}: {Error}); set aside as a dead letter")]
    private static partial void DeadLettered(ILogger logger, string type, string eventId, int status, string error);
}

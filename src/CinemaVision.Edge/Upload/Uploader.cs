using System.Globalization;
using System.Net;
using CinemaVision.Core.Events;
using CinemaVision.Edge.Configuration;
using CinemaVision.Edge.Operations;
using CinemaVision.Edge.Outbox;

namespace CinemaVision.Edge.Upload;

/// <summary>Delays between failed uploads: exponential with full jitter, so agents recovering together do not retry in step.</summary>
public static class UploadBackoff
{
    public static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan Max = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The wait before attempt <paramref name="failures"/> + 1: a random share (half to all, <paramref name="jitter01"/>) of
    /// min(max, initial × 2^failures); the centre's Retry-After, when given, is a floor.
    /// </summary>
    public static TimeSpan Delay(int failures, double jitter01, TimeSpan? retryAfter = null)
    {
        double ceiling = Math.Min(Max.TotalMilliseconds, Initial.TotalMilliseconds * Math.Pow(2, Math.Clamp(failures - 1, 0, 20)));
        var delay = TimeSpan.FromMilliseconds(ceiling * (0.5 + (0.5 * Math.Clamp(jitter01, 0, 1))));
        return retryAfter is { } floor && floor > delay ? floor : delay;
    }
}

/// <summary>
/// Sends the outbox to the centre: batches of the oldest pending events, the evidence they name uploaded first; events
/// are marked sent only on a 2xx. Evidence the centre will never take (400, 409, 413, 415) is dropped with a log line and
/// the event naming it still goes. 429 and 503 are honoured (Retry-After), other failures back off with jitter; an event
/// the centre rejects as invalid (400) is isolated by splitting the batch and set aside with its reason, so one bad
/// event never blocks the rest. Replays are safe: the centre stores each event id once.
/// </summary>
public sealed partial class Uploader : BackgroundService
{
    private readonly EventOutbox _outbox;
    private readonly CentreClient _centre;
    private readonly AgentOptions _options;
    private readonly AgentMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<Uploader> _logger;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private int _failures;
    private int _batchSize;

    public Uploader(EventOutbox outbox, CentreClient centre, AgentOptions options, AgentMetrics metrics, TimeProvider time, ILogger<Uploader> logger)
    {
        _outbox = outbox;
        _centre = centre;
        _options = options;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _batchSize = options.Outbox.BatchSize;
    }

    /// <summary>When the last batch reached the centre.</summary>
    public DateTimeOffset? LastSuccess { get; private set; }

    /// <summary>The centre's last refusal or the network error, until a success.</summary>
    public string? LastError { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lastPrune = _time.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                var outcome = await SendOnceAsync(stoppingToken);
                wait = outcome switch
                {
                    SendOutcome.Sent => TimeSpan.Zero,
                    SendOutcome.Empty => TimeSpan.FromSeconds(5),
                    _ => _retryWait,
                };
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            if (_time.GetUtcNow() - lastPrune > TimeSpan.FromMinutes(10))
            {
                _outbox.PruneSent();
                lastPrune = _time.GetUtcNow();
            }

            if (wait > TimeSpan.Zero)
            {
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                wake.CancelAfter(wait);
                try
                {
                    // New events wake an idle uploader at once; a backing-off one waits its time out.
                    if (_failures == 0) await _outbox.Added.ReadAsync(wake.Token);
                    else await Task.Delay(wait, _time, stoppingToken);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Sends what is left within the drain time (graceful shutdown); true when the outbox is empty.</summary>
    public async Task<bool> DrainAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (!cts.IsCancellationRequested)
            {
                var outcome = await SendOnceAsync(cts.Token);
                if (outcome == SendOutcome.Empty) return true;
                if (outcome != SendOutcome.Sent) return false;
            }
        }
        catch (OperationCanceledException)
        {
        }

        return false;
    }

    private TimeSpan _retryWait = UploadBackoff.Initial;

    internal enum SendOutcome
    {
        Empty = 0,
        Sent = 1,
        Failed = 2,
    }

    /// <summary>One batch: evidence first, then the events (one sender at a time: the loop or the shutdown drain).</summary>
    internal async Task<SendOutcome> SendOnceAsync(CancellationToken cancellationToken)
    {
        await _sending.WaitAsync(cancellationToken);
        try
        {
            return await SendLockedAsync(cancellationToken);
        }
        finally
        {
            _sending.Release();
        }
    }

    public override void Dispose()
    {
        _sending.Dispose();
        base.Dispose();
    }

    private async Task<SendOutcome> SendLockedAsync(CancellationToken cancellationToken)
    {
        var pending = _outbox.Pending(_batchSize);
        if (pending.Count == 0) return SendOutcome.Empty;
        try
        {
            var evidence = _outbox.EvidenceToUpload(pending.Where(p => p.EvidenceId is not null).Select(p => p.EvidenceId!));
            foreach (var (id, jpeg) in evidence)
            {
                var answer = await _centre.PutEvidenceAsync(id, jpeg, cancellationToken);
                if (answer.IsSuccess)
                {
                    _outbox.MarkEvidenceUploaded(id);
                    continue;
                }

                if (answer.Status is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.UnsupportedMediaType or HttpStatusCode.Conflict)
                {
                    // The centre will never take this crop (409: the id already belongs to other bytes or another
                    // agent, and evidence is never overwritten): the suspicion still goes, without its picture.
                    LogEvidenceRefused(_logger, id, (int)answer.Status, answer.Problem ?? "");
                    _outbox.MarkEvidenceUploaded(id);
                    continue;
                }

                return Failed(answer, $"evidence {id}");
            }

            return await SendEventsAsync(pending, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return Failed(null, ex.Message);
        }
    }

    private async Task<SendOutcome> SendEventsAsync(IReadOnlyList<PendingEvent> pending, CancellationToken cancellationToken)
    {
        var events = pending.Select(p => IngestJson.Deserialize(p.Body)).ToList();
        var batch = new IngestBatch(string.Create(CultureInfo.InvariantCulture, $"{_options.AgentId}-{pending[0].Seq}-{pending[^1].Seq}"), _options.AgentId, _time.GetUtcNow(), events);
        var started = _time.GetTimestamp();
        var answer = await _centre.PostBatchAsync(batch, cancellationToken);
        _metrics.UploadSeconds.Observe(_time.GetElapsedTime(started).TotalSeconds);
        LogBatchAnswer(_logger, batch.BatchId, pending.Count, (int)answer.Status);
        if (answer.IsSuccess && answer.Receipt?.Acknowledges(batch) != true)
        {
            // A 2xx that is not the centre's receipt for this batch (a proxy or portal answering for it, a connection cut
            // mid-answer): nothing is known to be stored, so nothing is marked sent; the centre's ledger makes the retry safe.
            var receipt = answer.Receipt is { } r ? $"a receipt for batch {r.BatchId} with {r.Accepted} + {r.Duplicates} events" : $"no receipt ({(string.IsNullOrEmpty(answer.Problem) ? "empty body" : answer.Problem)})";
            return Failed(answer with { Problem = $"{receipt}, not for batch {batch.BatchId} of {pending.Count} events; is something other than the centre answering at {_options.CentralUrl}?" }, "batch");
        }

        if (answer.IsSuccess)
        {
            _outbox.MarkSent([.. pending.Select(p => p.Seq)]);
            _metrics.EventsUploaded.Inc(pending.Count);
            _failures = 0;
            _batchSize = Math.Min(_options.Outbox.BatchSize, _batchSize * 2);
            LastSuccess = _time.GetUtcNow();
            LastError = null;
            return SendOutcome.Sent;
        }

        if (answer.Status == HttpStatusCode.RequestEntityTooLarge && pending.Count > 1)
        {
            _batchSize = Math.Max(1, pending.Count / 2);
            return SendOutcome.Sent;
        }

        if (answer.Status == HttpStatusCode.BadRequest)
        {
            if (pending.Count == 1)
            {
                LogEventRejected(_logger, pending[0].Id, pending[0].Type, answer.Problem ?? "");
                _outbox.MarkRejected(pending[0].Seq, answer.Problem ?? "rejected by the centre");
                _metrics.EventsRejected.Inc();
                return SendOutcome.Sent;
            }

            // Find the bad event(s): send halves until the culprit stands alone.
            var half = pending.Count / 2;
            foreach (var part in new[] { pending.Take(half).ToList(), pending.Skip(half).ToList() })
            {
                var outcome = await SendEventsAsync(part, cancellationToken);
                if (outcome == SendOutcome.Failed) return outcome;
            }

            return SendOutcome.Sent;
        }

        return Failed(answer, "batch");
    }

    private SendOutcome Failed(CentreAnswer? answer, string what)
    {
        _failures++;
        _metrics.UploadFailures.Inc();
        var reason = answer is null ? what : $"{what}: HTTP {(int)answer.Status} {answer.Problem}";
        LastError = reason;
        _retryWait = UploadBackoff.Delay(_failures, Random.Shared.NextDouble(), answer?.Status is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable ? answer.RetryAfter : null);
        if (answer?.Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden) LogKeyRefused(_logger, reason);
        else LogUploadFailed(_logger, reason, _failures, _retryWait.TotalSeconds);
        return SendOutcome.Failed;
    }

    [LoggerMessage(EventId = 6005, Level = LogLevel.Debug, Message = "Batch {BatchId} ({Count} events): HTTP {Status}")]
    private static partial void LogBatchAnswer(ILogger logger, string batchId, int count, int status);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Upload failed ({Reason}); attempt {Failures}, retrying in {Seconds:0.0} s")]
    private static partial void LogUploadFailed(ILogger logger, string reason, int failures, double seconds);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Error, Message = "The centre refused the agent's key ({Reason}): check the key file and that the agent is not revoked; events stay in the outbox")]
    private static partial void LogKeyRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Error, Message = "The centre rejected event {EventId} ({Type}) as invalid: {Problem}; it is set aside in the outbox, not retried")]
    private static partial void LogEventRejected(ILogger logger, string eventId, string type, string problem);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Warning, Message = "The centre refused evidence {EvidenceId} (HTTP {Status}: {Problem}); the suspicion is sent without it")]
    private static partial void LogEvidenceRefused(ILogger logger, string evidenceId, int status, string problem);
}

using CinemaVision.Server.Configuration;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Ingest;

/// <summary>Why a batch was refused before anything of it was stored.</summary>
public sealed record BacklogRefusal(string Title, string Detail, int RetryAfterSeconds);

/// <summary>
/// The work accepted but not finished yet, counted: events waiting to be forwarded to InfluxDB and alert signals
/// waiting to become alerts. Both are bounded; a batch that would pass a bound is refused whole (429 with
/// Retry-After: the agent keeps it in its own durable outbox), never stored in part or dropped. The counts are
/// read from the database at start and kept in step by the writers; health and metrics show them.
/// </summary>
public sealed class IngestBacklog
{
    private readonly IngestOptions _limits;
    private long _forward;
    private long _signals;
    private long _deadLetters;

    public IngestBacklog(IngestDatabase db, IOptions<ServerOptions> options)
    {
        _limits = options.Value.Ingest;
        _forward = db.Count("forward_queue");
        _signals = db.Count("alert_signals");
        _deadLetters = db.Count("forward_dead_letters");
    }

    public long ForwardPending => Interlocked.Read(ref _forward);

    public long SignalsPending => Interlocked.Read(ref _signals);

    public long DeadLetters => Interlocked.Read(ref _deadLetters);

    public long MaxForwardBacklog => _limits.MaxForwardBacklog;

    public long MaxPendingSignals => _limits.MaxPendingAlertSignals;

    /// <summary>Null when a batch of <paramref name="events"/> (of which <paramref name="incidents"/> raise signals) fits.</summary>
    public BacklogRefusal? Check(int events, int incidents, bool forwarding)
    {
        if (forwarding && ForwardPending + events > _limits.MaxForwardBacklog)
        {
            return new BacklogRefusal(
                "Time-series backlog full",
                $"{ForwardPending} events are waiting to be written to the time-series store (limit {_limits.MaxForwardBacklog}); keep this batch and retry after {_limits.BacklogRetryAfterSeconds} s. Nothing from it was stored.",
                _limits.BacklogRetryAfterSeconds);
        }

        if (incidents > 0 && SignalsPending + incidents > _limits.MaxPendingAlertSignals)
        {
            return new BacklogRefusal(
                "Alerting backlog full",
                $"{SignalsPending} incident events are waiting for the alerting engine (limit {_limits.MaxPendingAlertSignals}); keep this batch and retry after {_limits.BacklogRetryAfterSeconds} s. Nothing from it was stored.",
                _limits.BacklogRetryAfterSeconds);
        }

        return null;
    }

    public void ForwardAdded(long n) => Interlocked.Add(ref _forward, n);

    public void ForwardRemoved(long n) => Interlocked.Add(ref _forward, -n);

    public void SignalsAdded(long n) => Interlocked.Add(ref _signals, n);

    public void SignalsRemoved(long n) => Interlocked.Add(ref _signals, -n);

    public void DeadLettered(long n) => Interlocked.Add(ref _deadLetters, n);
}

namespace CinemaVision.Server.Dashboard.Live;

/// <summary>
/// Runs an action at most once per interval however often it is asked for, and always once more after the last
/// request: a page refreshes promptly after a burst of live updates without redrawing for every single batch.
/// </summary>
public sealed class Coalescer(TimeSpan interval, Func<Task> action) : IDisposable
{
    private readonly object _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private bool _scheduled;
    private DateTimeOffset _lastRun = DateTimeOffset.MinValue;

    public void Request()
    {
        lock (_gate)
        {
            if (_scheduled || _stop.IsCancellationRequested) return;
            _scheduled = true;
        }

        var wait = _lastRun + interval - DateTimeOffset.UtcNow;
        _ = RunAsync(wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    private async Task RunAsync(TimeSpan delay)
    {
        try
        {
            if (delay > TimeSpan.Zero) await Task.Delay(delay, _stop.Token);
            lock (_gate) _scheduled = false;
            _lastRun = DateTimeOffset.UtcNow;
            await action();
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }
}

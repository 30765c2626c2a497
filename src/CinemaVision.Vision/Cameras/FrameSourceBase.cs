using System.Diagnostics;
using CinemaVision.Core.Cameras;
using CinemaVision.Core.Frames;
using CinemaVision.Core.Geometry;
using CinemaVision.Vision.Frames;
using Microsoft.Extensions.Logging;
using OpenCvSharp;

namespace CinemaVision.Vision.Cameras;

/// <summary>
/// The supervisor every source shares: a background reader that keeps only the newest frame (older ones go back to
/// the pool and are counted as skipped), restarts the stream after a failure or a stall with exponential backoff and
/// jitter, forever, and reports its state and last error.
/// </summary>
public abstract partial class FrameSourceBase : IFrameSource
{
    private readonly object _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _frameReady = new(0, 1);
    private readonly Stopwatch _fpsClock = new();
    private MatFrame? _latest;
    private Task? _loop;
    private long _sequence;
    private long _read;
    private long _skipped;
    private long _reconnects;
    private long _fpsFrames;
    private double _fps;
    private FrameSourceState _state = FrameSourceState.Idle;
    private SizeI _size;
    private DateTimeOffset? _lastFrameAt;
    private string? _lastError;
    private DateTimeOffset _lastHandedOut = DateTimeOffset.MinValue;

    protected FrameSourceBase(CameraSource config, ILogger logger, FramePool? pool = null)
    {
        Config = config;
        Logger = logger;
        Pool = pool ?? new FramePool();
    }

    public string CameraId => Config.CameraId;
    protected CameraSource Config { get; }
    protected ILogger Logger { get; }
    protected FramePool Pool { get; }
    protected CancellationToken Stopping => _stop.Token;

    public FrameSourceStatus Status
    {
        get
        {
            lock (_gate) return new FrameSourceStatus(_state, _size, _read, _skipped, _reconnects, _lastFrameAt, _lastError, Math.Round(_fps, 2));
        }
    }

    public void Start()
    {
        lock (_gate)
        {
            _loop ??= Task.Run(() => SuperviseAsync(_stop.Token));
        }
    }

    public async ValueTask<IFrame?> NextFrameAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        Start();
        // Pace hand-overs to the analysis rate: the camera may deliver 25 fps, the analysis wants 2.
        var minGap = TimeSpan.FromSeconds(1 / Config.AnalysisFps);
        var wait = _lastHandedOut + minGap - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero && wait < timeout) await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            lock (_gate)
            {
                if (_latest is not null)
                {
                    var frame = _latest;
                    _latest = null;
                    _lastHandedOut = DateTimeOffset.UtcNow;
                    return frame;
                }

                if (_state is FrameSourceState.Ended or FrameSourceState.Stopped) return null;
            }

            var left = deadline - DateTimeOffset.UtcNow;
            if (left <= TimeSpan.Zero) return null;
            await _frameReady.WaitAsync(left < TimeSpan.FromMilliseconds(250) ? left : TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Opens the stream and delivers frames through <see cref="Deliver"/> until it ends, fails or stalls.</summary>
    /// <returns>True when the stream ended normally (a file without looping).</returns>
    protected abstract Task<bool> RunOnceAsync(CancellationToken cancellationToken);

    /// <summary>Rents a frame buffer of the stream's size.</summary>
    protected Mat RentFrame(int width, int height) => Pool.Rent(width, height);

    /// <summary>Publishes a decoded frame (rented from the pool) as the newest; the one it replaces is skipped.</summary>
    protected void Deliver(Mat bgr)
    {
        var frame = new MatFrame(bgr, CameraId, Interlocked.Increment(ref _sequence), DateTimeOffset.UtcNow, Pool.Return);
        MatFrame? replaced;
        lock (_gate)
        {
            replaced = _latest;
            _latest = frame;
            _read++;
            if (replaced is not null) _skipped++;
            _size = new SizeI(bgr.Width, bgr.Height);
            _lastFrameAt = frame.Timestamp;
            _state = FrameSourceState.Streaming;
            _fpsFrames++;
            if (!_fpsClock.IsRunning) _fpsClock.Start();
            if (_fpsClock.Elapsed >= TimeSpan.FromSeconds(2))
            {
                _fps = _fpsFrames / _fpsClock.Elapsed.TotalSeconds;
                _fpsFrames = 0;
                _fpsClock.Restart();
            }
        }

        replaced?.Dispose();
        if (_frameReady.CurrentCount == 0)
        {
            try { _frameReady.Release(); } catch (SemaphoreFullException) { }
        }
    }

    /// <summary>True when no frame arrived within the stall timeout since <paramref name="since"/>.</summary>
    protected bool Stalled(DateTimeOffset since)
    {
        lock (_gate)
        {
            var last = _lastFrameAt is { } l && l > since ? l : since;
            return DateTimeOffset.UtcNow - last > Config.StallTimeout;
        }
    }

    private async Task SuperviseAsync(CancellationToken ct)
    {
        int attempt = 0;
        while (!ct.IsCancellationRequested)
        {
            SetState(FrameSourceState.Connecting, null);
            long before = Interlocked.Read(ref _read);
            try
            {
                bool ended = await RunOnceAsync(ct).ConfigureAwait(false);
                if (ended)
                {
                    SetState(FrameSourceState.Ended, null);
                    Wake();
                    return;
                }

                SetError("the stream stopped delivering frames");
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                SetError(ex.Message);
            }

            if (Interlocked.Read(ref _read) > before) attempt = 0; // it worked for a while: start the backoff again
            var delay = ReconnectBackoff.Delay(attempt++, Config.BackoffInitial, Config.BackoffMax, Random.Shared.NextDouble());
            LogReconnecting(Logger, CameraId, Status.LastError ?? "unknown", delay.TotalMilliseconds);
            lock (_gate)
            {
                _reconnects++;
                _state = FrameSourceState.Reconnecting;
            }

            try
            {
                await Task.Delay(delay, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        SetState(FrameSourceState.Stopped, null);
    }

    private void SetState(FrameSourceState state, string? error)
    {
        lock (_gate)
        {
            _state = state;
            if (error is not null) _lastError = error;
        }
    }

    protected void SetError(string error)
    {
        lock (_gate) _lastError = error;
    }

    private void Wake()
    {
        if (_frameReady.CurrentCount == 0)
        {
            try { _frameReady.Release(); } catch (SemaphoreFullException) { }
        }
    }

    public virtual async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try { await _loop.ConfigureAwait(false); } catch (OperationCanceledException) { }
        }

        lock (_gate)
        {
            _latest?.Dispose();
            _latest = null;
            _state = FrameSourceState.Stopped;
        }

        Wake();
        Pool.Dispose();
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }

    [LoggerMessage(EventId = 3001, Level = Microsoft.Extensions.Logging.LogLevel.Warning, Message = "Camera {CameraId}: {Reason}; reconnecting in {DelayMs:0} ms")]
    private static partial void LogReconnecting(ILogger logger, string cameraId, string reason, double delayMs);
}

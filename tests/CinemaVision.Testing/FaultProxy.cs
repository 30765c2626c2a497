using System.Net;

namespace CinemaVision.Testing;

/// <summary>What the proxy does with the next requests.</summary>
public enum FaultMode
{
    /// <summary>Pass requests to the centre and its answers back.</summary>
    Forward = 0,

    /// <summary>Answer 429 Too Many Requests with Retry-After, as an overloaded centre does.</summary>
    TooManyRequests = 1,

    /// <summary>Answer 500, as a failing centre does.</summary>
    ServerError = 2,

    /// <summary>Forward, but hold the centre's answer back for <see cref="FaultProxy.Hold"/> (the agent can be killed while it waits: the centre has stored, the agent does not know).</summary>
    HoldAnswers = 3,
}

/// <summary>
/// A test instrument between a real agent and a real centre on loopback: forwards every request, or answers 429/500,
/// or holds the centre's answers back, on command; counts what it saw. Only <c>/api/v1/ingest</c> and
/// <c>/api/v1/evidence</c> requests are subject to faults (configuration pulls always pass).
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private static readonly HashSet<string> ForwardedRequestHeaders = new(StringComparer.OrdinalIgnoreCase) { "X-Api-Key", "Authorization", "If-None-Match", "Cookie", "User-Agent" };
    private readonly Uri _target;
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(60) };
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private long _forwarded;
    private long _faulted;
    private long _held;
    private long _unreachable;

    public FaultProxy(Uri target, int? port = null)
    {
        _target = target;
        Port = port ?? RtspServer.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
    }

    public int Port { get; }
    public Uri Url => new($"http://127.0.0.1:{Port}");
    public FaultMode Mode { get; set; }
    public TimeSpan Hold { get; set; } = TimeSpan.FromSeconds(5);
    public int RetryAfterSeconds { get; set; } = 2;
    public long Forwarded => Interlocked.Read(ref _forwarded);
    public long Faulted => Interlocked.Read(ref _faulted);
    public long Held => Interlocked.Read(ref _held);

    /// <summary>Requests answered 502/504 because the centre could not be reached.</summary>
    public long Unreachable => Interlocked.Read(ref _unreachable);

    /// <summary>What the proxy did with each faultable request (time, method, path, mode, outcome), for diagnosis.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Trace { get; } = new();

    private void Note(string what)
    {
        Trace.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {what}");
        while (Trace.Count > 5000) Trace.TryDequeue(out _);
    }

    /// <summary>Completes when an answer is being held (the moment to kill the agent).</summary>
    public TaskCompletionSource Holding { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ResetHolding() => Holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task StartAsync()
    {
        _listener.Start();
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                _ = Task.Run(() => HandleAsync(context));
            }
        });
        return Task.CompletedTask;
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var path = context.Request.Url!.AbsolutePath;
        bool faultable = path.StartsWith("/api/v1/ingest", StringComparison.Ordinal) || path.StartsWith("/api/v1/evidence", StringComparison.Ordinal);
        var mode = faultable ? Mode : FaultMode.Forward;
        var response = context.Response;
        var tag = $"{context.Request.HttpMethod} {path} from {context.Request.RemoteEndPoint} ({mode})";
        try
        {
            if (mode is FaultMode.TooManyRequests or FaultMode.ServerError)
            {
                Interlocked.Increment(ref _faulted);
                response.StatusCode = mode == FaultMode.TooManyRequests ? 429 : 500;
                if (mode == FaultMode.TooManyRequests) response.Headers["Retry-After"] = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                response.ContentType = "application/problem+json";
                var problem = System.Text.Encoding.UTF8.GetBytes(mode == FaultMode.TooManyRequests ? "{\"title\":\"Too many requests\",\"status\":429}" : "{\"title\":\"Internal error (injected)\",\"status\":500}");
                await response.OutputStream.WriteAsync(problem);
                response.Close();
                Note($"{tag}: answered {response.StatusCode} (injected)");
                return;
            }

            using var request = new HttpRequestMessage(new HttpMethod(context.Request.HttpMethod), new Uri(_target, context.Request.Url.PathAndQuery));
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            if (context.Request.HasEntityBody)
            {
                request.Content = new ByteArrayContent(body.ToArray());
                if (context.Request.ContentType is { } ct) request.Content.Headers.TryAddWithoutValidation("Content-Type", ct);
            }

            foreach (var name in context.Request.Headers.AllKeys.OfType<string>().Where(ForwardedRequestHeaders.Contains))
            {
                request.Headers.TryAddWithoutValidation(name, context.Request.Headers[name]);
            }

            HttpResponseMessage answer;
            try
            {
                answer = await _http.SendAsync(request);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // The centre is down (or silent): answer as a reverse proxy in front of it does, 502 (504 on a timeout).
                // Not HttpListenerResponse.Abort(): the managed listener writes the pending headers, a 200 with an empty
                // body, before it closes the connection, which is not what a dead centre looks like.
                Interlocked.Increment(ref _unreachable);
                var status = ex is TaskCanceledException ? 504 : 502;
                Note($"{tag}: centre unreachable ({ex.Message}); answered {status}");
                response.StatusCode = status;
                response.ContentType = "application/problem+json";
                var problem = System.Text.Encoding.UTF8.GetBytes($"{{\"title\":\"The centre is unreachable (proxy)\",\"status\":{status}}}");
                response.ContentLength64 = problem.Length;
                await response.OutputStream.WriteAsync(problem);
                response.Close();
                return;
            }

            using (answer)
            {
                Interlocked.Increment(ref _forwarded);
                var bytes = await answer.Content.ReadAsByteArrayAsync();
                if (mode == FaultMode.HoldAnswers)
                {
                    Interlocked.Increment(ref _held);
                    Holding.TrySetResult();
                    await Task.Delay(Hold);
                }

                response.StatusCode = (int)answer.StatusCode;
                foreach (var (name, values) in answer.Headers.Concat(answer.Content.Headers))
                {
                    if (name is "Transfer-Encoding" or "Content-Length" or "Connection" or "Keep-Alive") continue;
                    response.Headers[name] = string.Join(", ", values);
                }

                response.ContentLength64 = bytes.Length;
                Note($"{tag}: centre answered {(int)answer.StatusCode}; passing it on");
                await response.OutputStream.WriteAsync(bytes);
                response.Close();
                Note($"{tag}: answer {(int)answer.StatusCode} written");
            }
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
        {
            Note($"{tag}: {ex.GetType().Name} {ex.Message}");
            // The agent went away (killed) while we answered.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Close();
        if (_loop is not null) await _loop;
        _http.Dispose();
        _stop.Dispose();
    }
}

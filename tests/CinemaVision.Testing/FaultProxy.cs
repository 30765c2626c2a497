using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

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
    private readonly Uri _target;
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(60) };
    private WebApplication? _app;
    private long _forwarded;
    private long _faulted;
    private long _held;

    public FaultProxy(Uri target, int? port = null)
    {
        _target = target;
        Port = port ?? RtspServer.FreePort();
    }

    public int Port { get; }
    public Uri Url => new($"http://127.0.0.1:{Port}");
    public FaultMode Mode { get; set; }
    public TimeSpan Hold { get; set; } = TimeSpan.FromSeconds(5);
    public int RetryAfterSeconds { get; set; } = 2;
    public long Forwarded => Interlocked.Read(ref _forwarded);
    public long Faulted => Interlocked.Read(ref _faulted);
    public long Held => Interlocked.Read(ref _held);

    /// <summary>Completes when an answer is being held (the moment to kill the agent).</summary>
    public TaskCompletionSource Holding { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ResetHolding() => Holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port));
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Run(HandleAsync);
        await _app.StartAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        bool faultable = path.StartsWith("/api/v1/ingest", StringComparison.Ordinal) || path.StartsWith("/api/v1/evidence", StringComparison.Ordinal);
        var mode = faultable ? Mode : FaultMode.Forward;
        if (mode is FaultMode.TooManyRequests or FaultMode.ServerError)
        {
            Interlocked.Increment(ref _faulted);
            context.Response.StatusCode = mode == FaultMode.TooManyRequests ? 429 : 500;
            if (mode == FaultMode.TooManyRequests) context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Response.ContentType = "application/problem+json";
            await context.Response.WriteAsync(mode == FaultMode.TooManyRequests ? "{\"title\":\"Too many requests\",\"status\":429}" : "{\"title\":\"Internal error (injected)\",\"status\":500}");
            return;
        }

        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(_target, path + context.Request.QueryString));
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        if (body.Length > 0 || context.Request.ContentLength is not null)
        {
            request.Content = new ByteArrayContent(body.ToArray());
            if (context.Request.ContentType is { } ct) request.Content.Headers.TryAddWithoutValidation("Content-Type", ct);
        }

        foreach (var (name, values) in context.Request.Headers)
        {
            if (name is "X-Api-Key" or "Authorization" or "If-None-Match" or "Cookie" or "User-Agent") request.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values!);
        }

        HttpResponseMessage answer;
        try
        {
            answer = await _http.SendAsync(request, context.RequestAborted);
        }
        catch (HttpRequestException)
        {
            // The centre is down: the agent sees a failed connection as it would without the proxy.
            context.Abort();
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
                try
                {
                    await Task.Delay(Hold, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            context.Response.StatusCode = (int)answer.StatusCode;
            foreach (var (name, values) in answer.Headers.Concat(answer.Content.Headers))
            {
                if (name is "Transfer-Encoding" or "Content-Length") continue;
                context.Response.Headers[name] = values.ToArray();
            }

            await context.Response.Body.WriteAsync(bytes);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
        _http.Dispose();
    }
}

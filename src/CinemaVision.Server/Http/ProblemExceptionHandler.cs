using System.Text.Json;
using CinemaVision.Server.Storage.TimeSeries;
using Microsoft.AspNetCore.Diagnostics;

namespace CinemaVision.Server.Http;

/// <summary>
/// Turns what reaches the exception handler into problem details that name the problem, for every endpoint: a body
/// that cannot be bound (bad JSON, a number sent as a string, a duplicated property, a missing body) is a 400 (or the
/// 413/415 the framework chose) with the reader's own explanation; an unavailable time-series store is a 503 with
/// Retry-After that does not reveal its address. Anything else stays a 500 without internals.
/// </summary>
public sealed partial class ProblemExceptionHandler(ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            case BadHttpRequestException bad:
                var reason = bad.InnerException is JsonException json ? $"{bad.Message} {FirstSentence(json.Message)}" : bad.Message;
                await Results.Problem(statusCode: bad.StatusCode, title: "Bad request", detail: reason).ExecuteAsync(httpContext);
                return true;
            case JsonException malformed:
                await Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Malformed JSON", detail: FirstSentence(malformed.Message)).ExecuteAsync(httpContext);
                return true;
            case TimeSeriesStoreException store:
                StoreUnavailable(logger, store);
                httpContext.Response.Headers.RetryAfter = "10";
                await Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Time series unavailable", detail: "The time-series store is not answering; try again shortly. Events keep being accepted and are stored when it is back.").ExecuteAsync(httpContext);
                return true;
            default:
                return false;
        }
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] + " (at " + message[(cut + 7)..].Split(' ', 2)[0].TrimEnd('.', '|').Trim() + ")" : message;
    }

    [LoggerMessage(EventId = 7001, EventName = "TimeSeriesUnavailable", Level = LogLevel.Warning, Message = "A read from the time-series store failed")]
    private static partial void StoreUnavailable(ILogger logger, Exception exception);
}

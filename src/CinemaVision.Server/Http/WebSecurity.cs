using System.Globalization;
using CinemaVision.Server.Auth;
using CinemaVision.Server.Configuration;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Http;

/// <summary>
/// Browser-facing protections applied to every response and request as middleware, so pages and endpoints added
/// later are covered without doing anything:
/// <list type="bullet">
/// <item>Headers: <c>X-Content-Type-Options: nosniff</c>, <c>X-Frame-Options: DENY</c> with
/// <c>Content-Security-Policy: frame-ancestors 'none'</c> (no framing, no click-jacking), <c>Referrer-Policy</c>,
/// and over HTTPS <c>Strict-Transport-Security</c>. The sign-in cookie is Secure whenever the request is HTTPS.</item>
/// <item>Cross-site request forgery: a state-changing request (anything but GET, HEAD, OPTIONS, TRACE) and a
/// WebSocket upgrade that a browser sends from another origin is refused with 403 before it reaches the endpoint.
/// The browser says where a request comes from (<c>Origin</c>, else <c>Referer</c>, else <c>Sec-Fetch-Site</c>); it
/// must be this service's own origin or one in <c>CinemaVision:Security:AllowedOrigins</c>. Same-origin form posts,
/// Blazor's SignalR negotiate and WebSocket, and fetches from the dashboard pass; requests without any of these
/// headers (agents with their API key, scripts, curl) are not browser requests and pass too. A cross-origin
/// <c>text/plain</c> POST carrying the cookie does not.</item>
/// </list>
/// </summary>
public static class WebSecurity
{
    private static readonly HashSet<string> SafeMethods = new(StringComparer.OrdinalIgnoreCase) { "GET", "HEAD", "OPTIONS", "TRACE" };

    public static IApplicationBuilder UseCinemaVisionWebSecurity(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<IOptions<ServerOptions>>().Value;
        var allowed = options.Security.AllowedOrigins.Select(o => new Uri(o).GetLeftPart(UriPartial.Authority)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var hsts = options.Https.HstsMaxAgeDays > 0 ? "max-age=" + ((long)options.Https.HstsMaxAgeDays * 86_400).ToString(CultureInfo.InvariantCulture) : null;
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("CinemaVision.Server.Http");
        return app.Use(async (http, next) =>
        {
            var headers = http.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers.ContentSecurityPolicy = "frame-ancestors 'none'";
            headers["Referrer-Policy"] = "same-origin";
            if (http.Request.IsHttps && hsts is not null)
            {
                headers.StrictTransportSecurity = hsts;
            }

            if ((!SafeMethods.Contains(http.Request.Method) || http.WebSockets.IsWebSocketRequest) && ForeignOrigin(http.Request, allowed) is { } origin)
            {
                AuthLog.CrossOriginRefused(logger, http.Request.Method, http.Request.Path, origin);
                await Results.Problem(
                    statusCode: StatusCodes.Status403Forbidden,
                    title: "Cross-site request refused",
                    detail: $"This request came from a page of another site ({origin}); changes can only be made from this service's own pages.").ExecuteAsync(http);
                return;
            }

            await next(http);
        });
    }

    /// <summary>The foreign origin a browser reports for this request, or null when it is same-origin, allowed, or not from a browser.</summary>
    internal static string? ForeignOrigin(HttpRequest request, IReadOnlySet<string> allowed)
    {
        var own = $"{request.Scheme}://{request.Host.Value}";
        bool Ok(string origin) => string.Equals(origin, own, StringComparison.OrdinalIgnoreCase) || allowed.Contains(origin);

        var origin = request.Headers.Origin.ToString();
        if (origin.Length > 0)
        {
            // "null" is what a sandboxed frame, a data: URL or a privacy-stripped redirect sends: never ours.
            return Ok(origin) ? null : origin;
        }

        var referer = request.Headers.Referer.ToString();
        if (referer.Length > 0)
        {
            if (!Uri.TryCreate(referer, UriKind.Absolute, out var r))
            {
                return referer;
            }

            var from = r.GetLeftPart(UriPartial.Authority);
            return Ok(from) ? null : from;
        }

        var site = request.Headers["Sec-Fetch-Site"].ToString();
        return site is "cross-site" or "same-site" ? "a " + site + " page" : null;
    }
}

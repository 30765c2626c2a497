using System.Net;
using System.Security.Claims;
using CinemaVision.Server.Http;
using CinemaVision.Server.Operations;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace CinemaVision.Server.Auth;

/// <summary>Cookie sign-in for people: a plain HTML form at /login (the dashboard may replace the page later) and /logout.</summary>
public static class AuthEndpoints
{
    public static IEndpointRouteBuilder MapCinemaVisionAuth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/login", (string? returnUrl, bool? failed) => Results.Content(LoginPage(SafeReturnUrl(returnUrl), failed == true, null), "text/html; charset=utf-8"))
            .AllowAnonymous().ExcludeFromDescription();

        app.MapPost("/login", SignInAsync).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();

        app.MapPost("/logout", async (HttpContext http) =>
        {
            await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.LocalRedirect("/login");
        }).DisableAntiforgery().ExcludeFromDescription();

        // People and their roles: created by an admin; each change is in the audit log.
        var users = app.MapGroup("/api/v1/admin/users").WithTags("Admin").RequireAuthorization(Policies.Admin);
        users.MapPost("/", (CreateUserRequest request, UserStore store, AuditLog audit, ClaimsPrincipal user) =>
        {
            var errors = new Dictionary<string, string[]>();
            if (InputRules.IdProblem(request.UserName, MaxUserNameLength) is { } nameProblem) errors["userName"] = [nameProblem];
            if (request.Password is not { Length: >= 12 and <= MaxPasswordLength }) errors["password"] = [$"at least 12 and at most {MaxPasswordLength} characters."];
            if (!Roles.All.Contains(request.Role)) errors["role"] = [$"one of {string.Join(", ", Roles.All)}."];
            if (errors.Count > 0) return Results.ValidationProblem(errors);
            try
            {
                var created = store.Create(request.UserName, request.Password!, request.Role);
                audit.Write(user.Identity?.Name ?? "?", "user.create", created.UserName, created.Role);
                return Results.Created($"/api/v1/admin/users/{Uri.EscapeDataString(created.UserName)}", created);
            }
            catch (Microsoft.Data.Sqlite.SqliteException ex) when (ex.SqliteErrorCode == 19)
            {
                return Results.Problem(statusCode: 409, title: "User exists", detail: $"userName: '{request.UserName}' is taken.");
            }
        });

        app.MapGet("/api/v1/me", (ClaimsPrincipal user) => Results.Ok(new { name = user.Identity?.Name, role = user.FindFirstValue(ClaimTypes.Role) }))
            .RequireAuthorization(Policies.SignedIn).WithTags("Auth");
        return app;
    }

    /// <summary>
    /// Sign-in, hardened: a form body only (anything else 415), a user name that is an identifier and a bounded
    /// password (else 400), guessing throttled per user name and per address (429 with Retry-After, checked before
    /// any password), the same PBKDF2 work for unknown names as for known ones, and a return address that can only
    /// lead back into this service.
    /// </summary>
    private static async Task<IResult> SignInAsync(HttpContext http, UserStore users, AuditLog audit, SignInThrottle throttle, ServerMetrics metrics, ILoggerFactory loggers)
    {
        if (!http.Request.HasFormContentType)
        {
            metrics.SignIn("refused");
            return Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Sign-in needs the form", detail: "POST application/x-www-form-urlencoded (or multipart/form-data) fields username, password and optionally returnUrl.");
        }

        IFormCollection form;
        try
        {
            form = await http.Request.ReadFormAsync(http.RequestAborted);
        }
        catch (InvalidDataException ex)
        {
            metrics.SignIn("refused");
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Unreadable sign-in form", detail: ex.Message);
        }

        var userName = form["username"].ToString();
        var password = form["password"].ToString();
        var returnUrl = SafeReturnUrl(form["returnUrl"].ToString());
        var errors = new Dictionary<string, string[]>();
        if (InputRules.IdProblem(userName, MaxUserNameLength) is { } nameProblem) errors["username"] = [nameProblem];
        if (password.Length is 0 or > MaxPasswordLength) errors["password"] = [$"is required, at most {MaxPasswordLength} characters."];
        if (errors.Count > 0)
        {
            metrics.SignIn("refused");
            return Results.ValidationProblem(errors, title: "Sign-in form not valid");
        }

        var logger = loggers.CreateLogger("CinemaVision.Server.Auth");
        var address = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (throttle.Wait(userName, address) is { } wait)
        {
            var seconds = (int)Math.Ceiling(wait.TotalSeconds);
            metrics.SignIn("throttled");
            AuthLog.SignInThrottled(logger, userName, address, seconds);
            http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return http.Request.Headers.Accept.ToString().Contains("html", StringComparison.OrdinalIgnoreCase)
                ? Results.Content(LoginPage(returnUrl, false, seconds), "text/html; charset=utf-8", statusCode: StatusCodes.Status429TooManyRequests)
                : Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many sign-in attempts", detail: $"Too many wrong passwords; try again in {seconds} s.");
        }

        var user = users.Verify(userName, password);
        if (user is null)
        {
            throttle.Failed(userName, address);
            metrics.SignIn("failed");
            AuthLog.SignInFailed(logger, userName, address);
            return Results.Redirect($"/login?failed=true&returnUrl={Uri.EscapeDataString(returnUrl)}");
        }

        throttle.Succeeded(userName);
        metrics.SignIn("ok");
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, user.UserName), new Claim(ClaimTypes.Role, user.Role)],
            CookieAuthenticationDefaults.AuthenticationScheme);
        await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
        audit.Write(user.UserName, "sign-in", user.UserName, address);
        return Results.LocalRedirect(returnUrl);
    }

    public const int MaxUserNameLength = 64;

    public const int MaxPasswordLength = 1024;

    /// <summary>A path inside this service (printable ASCII, starting with one slash), else "/".</summary>
    public static string SafeReturnUrl(string? url) =>
        url is { Length: > 0 and <= 2048 } && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\')) && url.All(c => c is > ' ' and < '\x7f' and not '\\')
            ? url
            : "/";

    private static string LoginPage(string returnUrl, bool failed, int? throttledSeconds) => $$"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>CinemaVision sign in</title>
        <style>body{font-family:sans-serif;max-width:22rem;margin:5rem auto}label,input,button{display:block;width:100%;margin:.4rem 0}.err{color:#b00}</style></head>
        <body><h1>CinemaVision</h1>
        {{(failed ? "<p class=\"err\">User name or password is not right.</p>" : string.Empty)}}
        {{(throttledSeconds is { } t ? $"<p class=\"err\">Too many wrong passwords: try again in {t} s.</p>" : string.Empty)}}
        <form method="post" action="/login">
        <input type="hidden" name="returnUrl" value="{{WebUtility.HtmlEncode(returnUrl)}}">
        <label>User name<input name="username" autocomplete="username" required></label>
        <label>Password<input name="password" type="password" autocomplete="current-password" required></label>
        <button type="submit">Sign in</button></form></body></html>
        """;
}

public sealed record CreateUserRequest(string UserName, string? Password, string Role);

using System.Security.Claims;
using CinemaVision.Server.Components.Account;
using CinemaVision.Server.Http;
using CinemaVision.Server.Operations;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CinemaVision.Server.Auth;

/// <summary>Cookie sign-in for people: the sign-in page at /login (a statically rendered dashboard component posting a plain form) and /logout.</summary>
public static class AuthEndpoints
{
    public static IEndpointRouteBuilder MapCinemaVisionAuth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/login", (string? returnUrl, bool? failed) => LoginPage(SafeReturnUrl(returnUrl), failed == true, null))
            .AllowAnonymous().ExcludeFromDescription();

        app.MapPost("/login", SignInAsync).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();

        app.MapPost("/logout", async (HttpContext http) =>
        {
            await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.LocalRedirect("/login");
        }).DisableAntiforgery().ExcludeFromDescription();

        // People and their roles: created by an admin; each change is in the audit log.
        var users = app.MapGroup("/api/v1/admin/users").WithTags("Admin").RequireAuthorization(Policies.Admin);
        users.MapPost("/", (CreateUserRequest request, AccountService accounts, ClaimsPrincipal user) =>
        {
            var (created, errors) = accounts.Create(user.Identity?.Name ?? "?", request.UserName, request.Password, request.Role);
            if (created is not null) return Results.Created($"/api/v1/admin/users/{created.UserName}", created);
            return errors.TryGetValue("userName", out var taken) && taken[0].EndsWith("is taken.", StringComparison.Ordinal)
                ? Results.Problem(statusCode: 409, title: "User exists", detail: $"userName: {taken[0]}")
                : Results.ValidationProblem(errors);
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
                ? LoginPage(returnUrl, false, seconds)
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
        await UserSessions.SignInAsync(http, user, DateTimeOffset.UtcNow);
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

    /// <summary>The dashboard's sign-in page (a static component), 429 while the name or address is throttled.</summary>
    private static RazorComponentResult<LoginPage> LoginPage(string returnUrl, bool failed, int? throttledSeconds) =>
        new(new { ReturnUrl = returnUrl, Failed = failed, ThrottledSeconds = throttledSeconds })
        {
            StatusCode = throttledSeconds is null ? StatusCodes.Status200OK : StatusCodes.Status429TooManyRequests,
        };
}

public sealed record CreateUserRequest(string UserName, string? Password, string Role);

using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace CinemaVision.Server.Auth;

/// <summary>Cookie sign-in for people: a plain HTML form at /login (the dashboard may replace the page later) and /logout.</summary>
public static class AuthEndpoints
{
    public static IEndpointRouteBuilder MapCinemaVisionAuth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/login", (string? returnUrl, bool? failed) => Results.Content(LoginPage(returnUrl, failed == true), "text/html; charset=utf-8"))
            .AllowAnonymous().ExcludeFromDescription();

        app.MapPost("/login", async (HttpContext http, UserStore users, AuditLog audit, ILoggerFactory loggers) =>
        {
            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            var userName = form["username"].ToString();
            var password = form["password"].ToString();
            var returnUrl = form["returnUrl"].ToString();
            var user = string.IsNullOrEmpty(userName) ? null : users.Verify(userName, password);
            if (user is null)
            {
                AuthLog.SignInFailed(loggers.CreateLogger("CinemaVision.Server.Auth"), userName);
                return Results.Redirect($"/login?failed=true&returnUrl={Uri.EscapeDataString(returnUrl)}");
            }

            var identity = new ClaimsIdentity(
                [new Claim(ClaimTypes.Name, user.UserName), new Claim(ClaimTypes.Role, user.Role)],
                CookieAuthenticationDefaults.AuthenticationScheme);
            await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
            audit.Write(user.UserName, "sign-in", user.UserName);
            return Results.LocalRedirect(IsLocal(returnUrl) ? returnUrl : "/");
        }).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();

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
            if (string.IsNullOrWhiteSpace(request.UserName) || request.UserName.Length > 64) errors["userName"] = ["required, at most 64 characters."];
            if (request.Password is not { Length: >= 12 }) errors["password"] = ["at least 12 characters."];
            if (!Roles.All.Contains(request.Role)) errors["role"] = [$"one of {string.Join(", ", Roles.All)}."];
            if (errors.Count > 0) return Results.ValidationProblem(errors);
            try
            {
                var created = store.Create(request.UserName, request.Password!, request.Role);
                audit.Write(user.Identity?.Name ?? "?", "user.create", created.UserName, created.Role);
                return Results.Created($"/api/v1/admin/users/{created.UserName}", created);
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

    private static bool IsLocal(string url) => url.Length > 0 && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'));

    private static string LoginPage(string? returnUrl, bool failed) => $$"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>CinemaVision sign in</title>
        <style>body{font-family:sans-serif;max-width:22rem;margin:5rem auto}label,input,button{display:block;width:100%;margin:.4rem 0}.err{color:#b00}</style></head>
        <body><h1>CinemaVision</h1>
        {{(failed ? "<p class=\"err\">User name or password is not right.</p>" : string.Empty)}}
        <form method="post" action="/login">
        <input type="hidden" name="returnUrl" value="{{WebUtility.HtmlEncode(returnUrl ?? "/")}}">
        <label>User name<input name="username" autocomplete="username" required></label>
        <label>Password<input name="password" type="password" autocomplete="current-password" required></label>
        <button type="submit">Sign in</button></form></body></html>
        """;
}

public sealed record CreateUserRequest(string UserName, string? Password, string Role);

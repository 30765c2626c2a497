using Microsoft.AspNetCore.Routing.Patterns;

namespace CinemaVision.Server.Http;

/// <summary>
/// Every route value of every endpoint (<c>{siteId}</c>, <c>{auditoriumId}</c>, <c>{showingId}</c>, <c>{agentId}</c>,
/// <c>{id}</c>, ...) is checked as an identifier (<see cref="InputRules.IdProblem"/>) before the endpoint runs, and
/// a bad one is answered 400 with problem details naming it. Middleware, so endpoints mapped later (any feature,
/// any branch) get it without doing anything; catch-all parameters (<c>{**path}</c>) are paths, not ids, and are skipped.
/// </summary>
public static class RouteValueCheck
{
    public static IApplicationBuilder UseRouteValueCheck(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        if (http.GetEndpoint() is RouteEndpoint endpoint)
        {
            foreach (var parameter in endpoint.RoutePattern.Parameters)
            {
                if (parameter.IsCatchAll || !http.Request.RouteValues.TryGetValue(parameter.Name, out var raw) || raw is not string value)
                {
                    continue;
                }

                if (InputRules.IdProblem(value) is { } problem)
                {
                    await Results.ValidationProblem(
                        new Dictionary<string, string[]> { [parameter.Name] = [problem] },
                        detail: $"Route value '{parameter.Name}' {problem}",
                        title: "Invalid identifier in the address").ExecuteAsync(http);
                    return;
                }
            }
        }

        await next(http);
    });
}

using System.Threading.RateLimiting;
using CinemaVision.Server.Alerting;
using CinemaVision.Server.Audience;
using CinemaVision.Server.Auth;
using CinemaVision.Server.Configuration;
using CinemaVision.Server.Dashboard;
using CinemaVision.Server.Ingest;
using CinemaVision.Server.Showings;
using CinemaVision.Server.Sites;
using CinemaVision.Server.Storage;
using CinemaVision.Server.Storage.TimeSeries;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Extensions;

/// <summary>Service registrations of the central host; Program.cs stays a few lines.</summary>
public static class ServerExtensions
{
    public static WebApplicationBuilder AddCinemaVisionServer(this WebApplicationBuilder builder)
    {
        // Serves the component library's files from the build output too (scripts/run), not only from a publish.
        builder.WebHost.UseStaticWebAssets();
        var services = builder.Services;
        services.AddOptions<ServerOptions>()
            .Bind(builder.Configuration.GetSection(ServerOptions.Section))
            .PostConfigure(o =>
            {
                if (Environment.GetEnvironmentVariable("CINEMAVISION_DATA_DIR") is { Length: > 0 } dir)
                {
                    o.DataDirectory = dir;
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ServerOptions>, ServerOptionsValidator>();
        services.AddSingleton(TimeProvider.System);
        services.AddProblemDetails();
        services.AddOpenApi();

        services.AddStateDatabase();
        services.AddTimeSeriesStore();
        services.AddCinemaVisionAuth();
        services.AddIngest();
        services.AddAlerting(builder.Configuration);
        services.AddAudience();
        services.AddDashboard();
        return builder;
    }

    public static IServiceCollection AddStateDatabase(this IServiceCollection services)
    {
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ServerOptions>>().Value;
            var folder = Path.GetFullPath(options.DataDirectory);
            Directory.CreateDirectory(folder);
            var connectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(folder, "state.db"), Pooling = true }.ToString();
            return new StateDatabase(connectionString, sp.GetServices<IStateSchema>());
        });
        services.AddSingleton<IStateSchema, AgentKeySchema>();
        services.AddSingleton<IStateSchema, UserSchema>();
        services.AddSingleton<IStateSchema, IngestedItemsSchema>();
        services.AddSingleton<IStateSchema, ShowingSchema>();
        services.AddSingleton<IStateSchema, AuditoriumConfigSchema>();
        services.AddSingleton<IStateSchema, SiteSchema>();
        services.AddSingleton<ShowingStore>();
        services.AddSingleton<ShowingAnalysis>();
        services.AddSingleton<SiteStore>();
        services.AddSingleton<AuditoriumConfigStore>();
        services.AddSingleton<AgentKeyStore>();
        services.AddSingleton<UserStore>();
        services.AddSingleton<AuditLog>();
        services.AddSingleton<AccountService>();

        // Registered first so the tables exist before any other hosted service runs.
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, StateInitializer>());
        return services;
    }

    public static IServiceCollection AddTimeSeriesStore(this IServiceCollection services)
    {
        services.AddSingleton<ITimeSeriesStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ServerOptions>>().Value;
            return options.TimeSeries.Provider switch
            {
                TimeSeriesProvider.Influx => new InfluxTimeSeriesStore(
                    options.TimeSeries, sp.GetRequiredService<IHttpClientFactory>().CreateClient(InfluxTimeSeriesStore.HttpClientName), sp.GetRequiredService<ILogger<InfluxTimeSeriesStore>>()),
                _ => new SqliteTimeSeriesStore(Path.Combine(Path.GetFullPath(options.DataDirectory), "timeseries.db"), options.TimeSeries),
            };
        });
        services.AddHttpClient(InfluxTimeSeriesStore.HttpClientName);
        services.AddHostedService<TimeSeriesMaintenanceService>();
        return services;
    }

    public static IServiceCollection AddCinemaVisionAuth(this IServiceCollection services)
    {
        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.LoginPath = "/login";
                o.LogoutPath = "/logout";
                o.AccessDeniedPath = "/denied";
                o.ReturnUrlParameter = "returnUrl";
                o.Cookie.Name = "cinemavision.auth";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.SlidingExpiration = true;
                o.ExpireTimeSpan = TimeSpan.FromHours(12);

                // APIs answer 401/403; only pages redirect to the sign-in form.
                o.Events.OnRedirectToLogin = c => ApiAwareRedirect(c, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = c => ApiAwareRedirect(c, StatusCodes.Status403Forbidden);
                o.Events.OnValidatePrincipal = UserSessions.ValidateCookieAsync;
            })
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(Policies.ApiKeyScheme, null);

        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Agent, p => p.AddAuthenticationSchemes(Policies.ApiKeyScheme).RequireAuthenticatedUser().RequireClaim(AgentClaims.AgentId).RequireClaim(AgentClaims.SiteId))
            .AddPolicy(Policies.SignedIn, p => p.AddAuthenticationSchemes(CookieAuthenticationDefaults.AuthenticationScheme).RequireAuthenticatedUser().RequireRole(Roles.All))
            .AddPolicy(Policies.Admin, p => p.AddAuthenticationSchemes(CookieAuthenticationDefaults.AuthenticationScheme).RequireRole(Roles.Admin))
            .AddPolicy(Policies.Security, p => p.AddAuthenticationSchemes(CookieAuthenticationDefaults.AuthenticationScheme).RequireRole(Roles.Admin, Roles.Security))
            .AddPolicy(Policies.Viewer, p => p.AddAuthenticationSchemes(CookieAuthenticationDefaults.AuthenticationScheme).RequireRole(Roles.Admin, Roles.Security, Roles.Manager, Roles.DataTeam))
            .AddPolicy(Policies.Managers, p => p.AddAuthenticationSchemes(CookieAuthenticationDefaults.AuthenticationScheme).RequireRole(Roles.Admin, Roles.Manager))
            .AddPolicy(Policies.Operations, p => p.AddAuthenticationSchemes(CookieAuthenticationDefaults.AuthenticationScheme).RequireRole(Roles.Admin, Roles.Security, Roles.DataTeam));
        return services;
    }

    public static IServiceCollection AddIngest(this IServiceCollection services)
    {
        services.AddSingleton<IngestService>();
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = async (context, token) =>
            {
                var limits = context.HttpContext.RequestServices.GetRequiredService<IOptions<ServerOptions>>().Value.Ingest;
                IngestLog.Overloaded(context.HttpContext.RequestServices.GetRequiredService<ILogger<IngestService>>());
                context.HttpContext.Response.Headers.RetryAfter = limits.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await Results.Problem(
                    statusCode: StatusCodes.Status429TooManyRequests,
                    title: "Ingest overloaded",
                    detail: $"The service is storing as many batches as it can; retry after {limits.RetryAfterSeconds} s. Nothing from this batch was stored.")
                    .ExecuteAsync(context.HttpContext);
            };
            o.AddPolicy(IngestEndpoints.RateLimiterPolicy, http =>
            {
                var limits = http.RequestServices.GetRequiredService<IOptions<ServerOptions>>().Value.Ingest;
                return RateLimitPartition.GetConcurrencyLimiter("ingest", _ => new ConcurrencyLimiterOptions
                {
                    PermitLimit = limits.MaxConcurrentBatches,
                    QueueLimit = limits.QueueLimit,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                });
            });
        });
        return services;
    }

    public static WebApplication MapCinemaVisionServer(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRequestLocalization();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        app.UseRateLimiter();

        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapGet("/healthz", () => "ok").AllowAnonymous().ExcludeFromDescription();
        app.MapCinemaVisionAuth();
        app.MapCinemaVisionIngest();
        app.MapAlertingEndpoints();
        app.MapSiteEndpoints();
        app.MapAccountEndpoints();
        app.MapAudienceEndpoints();
        app.MapDashboard();
        return app;
    }

    private static Task ApiAwareRedirect(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        if (context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
        {
            context.Response.StatusCode = status;
            return Task.CompletedTask;
        }

        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }
}

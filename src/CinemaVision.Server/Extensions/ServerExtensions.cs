using System.Threading.RateLimiting;
using CinemaVision.Server.Alerting;
using CinemaVision.Server.Audience;
using CinemaVision.Server.Auth;
using CinemaVision.Server.Collection;
using CinemaVision.Server.Configuration;
using CinemaVision.Server.Http;
using CinemaVision.Server.Dashboard;
using CinemaVision.Server.Ingest;
using CinemaVision.Server.Models;
using CinemaVision.Server.Operations;
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
        services.AddCinemaVisionHttp();
        builder.WebHost.ConfigureKestrel((context, kestrel) => UseGeneratedCertificateWhenNoneGiven(context.Configuration, kestrel));

        services.AddStateDatabase();
        services.AddTimeSeriesStore();
        services.AddCinemaVisionAuth();
        services.AddIngest();
        services.AddAlerting(builder.Configuration);
        services.AddFrameCollection(builder.Configuration);
        services.AddModelVersions(builder.Configuration);
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

    /// <summary>
    /// The local ingest database and the time-series store behind it: the embedded store writes its series in that
    /// database; with InfluxDB the events wait there and <see cref="InfluxForwarder"/> drains them.
    /// </summary>
    public static IServiceCollection AddTimeSeriesStore(this IServiceCollection services)
    {
        static ServerOptions Options(IServiceProvider sp) => sp.GetRequiredService<IOptions<ServerOptions>>().Value;
        static bool Influx(IServiceProvider sp) => Options(sp).TimeSeries.Provider == TimeSeriesProvider.Influx;
        services.AddSingleton(sp =>
        {
            var folder = Path.GetFullPath(Options(sp).DataDirectory);
            Directory.CreateDirectory(folder);
            return new IngestDatabase(Path.Combine(folder, IngestDatabase.FileName), Path.Combine(folder, StateDatabase.FileName));
        });
        services.AddSingleton<IngestBacklog>();
        services.AddSingleton<IngestSignals>();
        services.AddSingleton(sp => new SqliteTimeSeriesStore(sp.GetRequiredService<IngestDatabase>(), Options(sp).TimeSeries));
        services.AddSingleton(sp => new InfluxTimeSeriesStore(
            Options(sp).TimeSeries, sp.GetRequiredService<IHttpClientFactory>().CreateClient(InfluxTimeSeriesStore.HttpClientName), sp.GetRequiredService<ILogger<InfluxTimeSeriesStore>>()));
        services.AddSingleton<InfluxForwarder>();
        services.AddSingleton<ITimeSeriesStore>(sp => Influx(sp) ? sp.GetRequiredService<InfluxTimeSeriesStore>() : sp.GetRequiredService<SqliteTimeSeriesStore>());
        services.AddSingleton<IEventSink>(sp => Influx(sp) ? sp.GetRequiredService<InfluxForwarder>() : sp.GetRequiredService<SqliteTimeSeriesStore>());
        services.AddSingleton<IHostedService>(sp => Influx(sp) ? sp.GetRequiredService<InfluxForwarder>() : new IdleService());
        services.AddHttpClient(InfluxTimeSeriesStore.HttpClientName);
        services.AddHostedService<TimeSeriesMaintenanceService>();
        services.AddSingleton<LedgerPruner>();
        services.AddHostedService(sp => sp.GetRequiredService<LedgerPruner>());
        return services;
    }

    /// <summary>
    /// HTTP-wide rules every endpoint gets, including ones added later: strict JSON bodies (numbers as numbers, no
    /// duplicated properties), binding failures answered as problem details naming the problem, metrics, the
    /// sign-in throttle.
    /// </summary>
    public static IServiceCollection AddCinemaVisionHttp(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
            o.SerializerOptions.AllowDuplicateProperties = false;
        });
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddSingleton<ServerMetrics>();
        services.AddSingleton<SignInThrottle>();
        return services;
    }

    /// <summary>An https endpoint without a certificate (none in Kestrel's configuration) uses the service's generated one.</summary>
    private static void UseGeneratedCertificateWhenNoneGiven(IConfiguration configuration, Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel)
    {
        var https = configuration.GetSection(ServerOptions.Section + ":Https").Get<HttpsOptions>() ?? new HttpsOptions();
        if (!https.GenerateCertificate || configuration["Kestrel:Certificates:Default:Path"] is { Length: > 0 })
        {
            return;
        }

        System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null;
        kestrel.ConfigureHttpsDefaults(o =>
        {
            if (o.ServerCertificate is not null || o.ServerCertificateSelector is not null)
            {
                return;
            }

            if (certificate is null)
            {
                var data = Environment.GetEnvironmentVariable("CINEMAVISION_DATA_DIR") is { Length: > 0 } dir ? dir : configuration[ServerOptions.Section + ":DataDirectory"] ?? "data";
                certificate = ServerCertificate.LoadOrCreate(data, https.CertificateHosts, out var created);
                var logger = kestrel.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("CinemaVision.Server.Https");
                HttpsLog.GeneratedCertificate(logger, created ? "Generated" : "Using", ServerCertificate.Fingerprint(certificate), Path.Combine(Path.GetFullPath(data), ServerCertificate.Folder));
            }

            o.ServerCertificate = certificate;
        });
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

                // Secure whenever the sign-in happened over HTTPS (always, once HTTPS is set up).
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
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
            .AddPolicy(Policies.DataTeam, p => p.AddAuthenticationSchemes(CookieAuthenticationDefaults.AuthenticationScheme).RequireRole(Roles.Admin, Roles.DataTeam))
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
        app.UseCinemaVisionWebSecurity();
        if (app.Services.GetRequiredService<IOptions<ServerOptions>>().Value.Https.RedirectHttp)
        {
            // Browsers on plain HTTP go to the HTTPS endpoint (when there is one); API clients are not redirected
            // (an agent's key would already have crossed the wire: it must be configured with the https address).
            app.UseWhen(http => !http.Request.IsHttps && HttpMethods.IsGet(http.Request.Method) && !http.Request.Path.StartsWithSegments("/api") && http.Request.Path != "/healthz" && http.Request.Path != "/metrics" && HasHttpsEndpoint(http), b => b.UseHttpsRedirection());
        }

        app.UseRequestLocalization();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        app.UseRateLimiter();
        app.UseRouteValueCheck();

        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapHealthAndMetrics();
        app.MapCinemaVisionAuth();
        app.MapCinemaVisionIngest();
        app.MapAlertingEndpoints();
        app.MapSiteEndpoints();
        app.MapFrameCollectionEndpoints();
        app.MapModelEndpoints();
        app.MapAccountEndpoints();
        app.MapAudienceEndpoints();
        app.MapDashboard();
        return app;
    }

    private static bool HasHttpsEndpoint(HttpContext http) =>
        http.RequestServices.GetService<Microsoft.AspNetCore.Hosting.Server.IServer>()?.Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses.Any(a => a.StartsWith("https:", StringComparison.OrdinalIgnoreCase)) == true;

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

/// <summary>Stands in for a background service a configuration does not need (the forwarder with the embedded store).</summary>
internal sealed class IdleService : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

internal static partial class HttpsLog
{
    [LoggerMessage(EventId = 8001, EventName = "ServerCertificate", Level = LogLevel.Warning, Message = "{What} the service's own TLS certificate, SHA-256 fingerprint {Fingerprint} (in {Folder}): set it as the agents' centralCertificateSha256")]
    public static partial void GeneratedCertificate(ILogger logger, string what, string fingerprint, string folder);
}

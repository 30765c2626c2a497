using System.Globalization;
using CinemaVision.Server.Components;
using CinemaVision.Server.Dashboard.Auth;
using CinemaVision.Server.Dashboard.Data;
using CinemaVision.Server.Dashboard.Live;
using CinemaVision.Server.Dashboard.Localization;
using CinemaVision.Server.Ingest;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Localization;
using MudBlazor;
using MudBlazor.Services;

namespace CinemaVision.Server.Dashboard;

/// <summary>The dashboard: Blazor components rendered interactively on the server, MudBlazor, live from ingest and alerting.</summary>
public static class DashboardExtensions
{
    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices(c =>
        {
            c.SnackbarConfiguration.PositionClass = Defaults.Classes.Position.BottomRight;
            c.SnackbarConfiguration.PreventDuplicates = false;
            c.SnackbarConfiguration.ShowCloseIcon = true;
        });
        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, UserRevalidatingAuthenticationStateProvider>();
        services.Configure<RequestLocalizationOptions>(o =>
        {
            CultureInfo[] cultures = [new(DashboardText.English), new(DashboardText.Chinese)];
            o.DefaultRequestCulture = new RequestCulture(DashboardText.English);
            o.SupportedCultures = cultures;
            o.SupportedUICultures = cultures;
            o.FallBackToParentCultures = true;
            o.FallBackToParentUICultures = true;

            // The person's choice (cookie, set at sign-in from their account), else the browser's language.
            o.RequestCultureProviders = [new CookieRequestCultureProvider(), new AcceptLanguageHeaderRequestCultureProvider()];
        });

        services.AddSingleton<DashboardText>();
        services.AddScoped<DashboardSession>();
        services.AddSingleton<LiveUpdates>();
        services.AddSingleton<IIngestObserver>(sp => sp.GetRequiredService<LiveUpdates>());
        services.AddSingleton<AuditoriumCatalog>();
        services.AddSingleton<CameraHealthService>();
        services.AddSingleton<OverviewService>();
        services.AddSingleton<AuditoriumViewService>();
        services.AddSingleton<ReportService>();
        services.AddSingleton<IReferenceFrameSource, EmptyHallReferenceFrames>();
        services.AddSingleton<IMeasuredAccuracySource, SpotCountAccuracySource>();
        return services;
    }

    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}

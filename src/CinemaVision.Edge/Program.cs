using CinemaVision.Edge.Analysis;
using CinemaVision.Edge.Collection;
using CinemaVision.Edge.Configuration;
using CinemaVision.Edge.Operations;
using CinemaVision.Edge.Outbox;
using CinemaVision.Edge.Upload;
using CinemaVision.Vision.Detectors;

// cinemavision-agent --config /etc/cinemavision/agent.json
var configPath = args.SkipWhile(a => a != "--config").Skip(1).FirstOrDefault()
    ?? Environment.GetEnvironmentVariable("CINEMAVISION_AGENT_CONFIG")
    ?? "/etc/cinemavision/agent.json";
var (options, problems) = AgentOptions.Load(configPath);
if (options is null)
{
    // Every problem at once, each with where it is, so an installer fixes the file in one go.
    Console.Error.WriteLine($"cinemavision-agent: {configPath} has {problems.Count} problem(s):");
    foreach (var p in problems) Console.Error.WriteLine($"  {p}");
    return 2;
}

var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [.. args.Where(a => a != "--config" && a != configPath)], ContentRootPath = AppContext.BaseDirectory });
builder.WebHost.ConfigureKestrel(k => k.Listen(options.Listen));
builder.Logging.ClearProviders();
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
if (Environment.GetEnvironmentVariable("CINEMAVISION_LOG_FORMAT") == "text") builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
else builder.Logging.AddJsonConsole(o => { o.IncludeScopes = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ "; o.UseUtcTimestamp = true; });
builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = options.DrainTimeout + TimeSpan.FromSeconds(30));
builder.Services.AddSingleton(options);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<AgentMetrics>();
builder.Services.AddSingleton(new ManifestModelResolver(options.Models));
builder.Services.AddSingleton<ModelRolloutService>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<ModelRolloutService>());
builder.Services.AddSingleton<IModelResolver>(sp => sp.GetRequiredService<ModelRolloutService>());
builder.Services.AddSingleton(sp => new SharedModels((name, auditoriumId) => sp.GetRequiredService<IModelResolver>().Resolve(name, auditoriumId)));
builder.Services.AddSingleton(sp => new EventOutbox(options.DataDirectory, options.Outbox, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<EventOutbox>>()));
builder.Services.AddSingleton(sp => new CentreClient(options, logger: sp.GetRequiredService<ILogger<CentreClient>>()));
builder.Services.AddSingleton<SiteConfigService>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<SiteConfigService>());
builder.Services.AddSingleton<Uploader>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<Uploader>());
builder.Services.AddSingleton<FrameCollectionService>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<FrameCollectionService>());
builder.Services.AddSingleton<ReferenceService>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<ReferenceService>());
builder.Services.AddSingleton(sp => new CameraServices(sp.GetRequiredService<FrameCollectionService>(), sp.GetRequiredService<ModelRolloutService>(), sp.GetRequiredService<ReferenceService>()));
builder.Services.AddSingleton<DecoderProcesses>();
builder.Services.AddSingleton<CpuMeter>();
builder.Services.AddSingleton<AnalysisScheduler>();
builder.Services.AddSingleton<AgentService>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<AgentService>());

var app = builder.Build();
app.MapAgentEndpoints();
await app.RunAsync();
return 0;

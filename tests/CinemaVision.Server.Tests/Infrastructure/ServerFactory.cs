using System.Net.Http.Json;
using CinemaVision.Core.Events;
using CinemaVision.Server.Ingest;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace CinemaVision.Server.Tests.Infrastructure;

/// <summary>The real host in memory with its own data folder and a known admin password.</summary>
public sealed class ServerFactory : WebApplicationFactory<Program>
{
    public const string AdminPassword = "test-admin-password-1";
    private readonly string _folder = Directory.CreateTempSubdirectory("cv-server-").FullName;
    private readonly Dictionary<string, string?> _settings;

    public ServerFactory(Dictionary<string, string?>? settings = null)
    {
        _settings = settings ?? [];
    }

    public RecordingObserver Observer { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("CinemaVision:DataDirectory", _folder);
        builder.UseSetting("CinemaVision:BootstrapAdmin:Password", AdminPassword);
        builder.UseSetting("CinemaVision:TimeSeries:MaintenanceIntervalSeconds", "3600");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureTestServices(services => services.AddSingleton<IIngestObserver>(Observer));
    }

    /// <summary>A client signed in as the bootstrap admin (cookie kept by the handler).</summary>
    public async Task<HttpClient> AdminClientAsync()
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = "admin", ["password"] = AdminPassword, ["returnUrl"] = "/" });
        using var response = await client.PostAsync(new Uri("/login", UriKind.Relative), form);
        Assert.Equal(System.Net.HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    /// <summary>Creates a person with a role through the admin API and returns a client signed in as them.</summary>
    public async Task<HttpClient> UserClientAsync(string userName, string role)
    {
        using (var admin = await AdminClientAsync())
        {
            using var created = await admin.PostAsJsonAsync("/api/v1/admin/users", new { userName, password = "password-of-" + userName, role });
            created.EnsureSuccessStatusCode();
        }

        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = userName, ["password"] = "password-of-" + userName, ["returnUrl"] = "/" });
        using var response = await client.PostAsync(new Uri("/login", UriKind.Relative), form);
        Assert.Equal(System.Net.HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    /// <summary>The audit log's entries (actor, action, subject), oldest first.</summary>
    public IReadOnlyList<(string Actor, string Action, string Subject)> AuditEntries()
    {
        var db = Services.GetRequiredService<CinemaVision.Server.Storage.StateDatabase>();
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT actor, action, subject FROM audit_log ORDER BY rowid";
        using var r = cmd.ExecuteReader();
        var list = new List<(string, string, string)>();
        while (r.Read()) list.Add((r.GetString(0), r.GetString(1), r.GetString(2)));
        return list;
    }

    /// <summary>Registers an agent through the admin API and returns a client carrying its key.</summary>
    public async Task<(HttpClient Client, string Key)> AgentClientAsync(string agentId, string siteId)
    {
        using var admin = await AdminClientAsync();
        using var response = await admin.PostAsJsonAsync("/api/v1/admin/agents", new CreateAgentKeyRequest(agentId, siteId, null));
        response.EnsureSuccessStatusCode();
        var created = (await response.Content.ReadFromJsonAsync<CreatedAgentKey>(IngestJson.Options))!;
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", created.ApiKey);
        return (client, created.ApiKey);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A real observer that records what it is told and can hold a batch to simulate a slow consumer.</summary>
public sealed class RecordingObserver : IIngestObserver
{
    private readonly List<IngestBatch> _batches = [];

    public TaskCompletionSource? Gate { get; set; }

    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<IngestBatch> Batches
    {
        get
        {
            lock (_batches)
            {
                return _batches.ToList();
            }
        }
    }

    public async ValueTask OnStoredAsync(IngestBatch newItems, CancellationToken cancellationToken)
    {
        lock (_batches)
        {
            _batches.Add(newItems);
        }

        Entered.TrySetResult();
        if (Gate is { } gate)
        {
            await gate.Task;
        }
    }
}

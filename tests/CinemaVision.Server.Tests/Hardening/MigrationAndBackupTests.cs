using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CinemaVision.Core.Events;
using CinemaVision.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace CinemaVision.Server.Tests.Hardening;

/// <summary>Versioned migrations from the first release's databases, and backup/restore of a running service into a fresh folder.</summary>
public sealed class MigrationAndBackupTests(ITestOutputHelper output)
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures", "release-0");

    private static void Load(string sqlFile, string database)
    {
        using var c = new SqliteConnection($"Data Source={database};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = File.ReadAllText(sqlFile);
        cmd.ExecuteNonQuery();
    }

    private static long Scalar(string database, string sql)
    {
        using var c = new SqliteConnection($"Data Source={database};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Release0Databases_MigratedAtStart_KeysLedgerAlertsEvidenceAndSeriesCarryOver()
    {
        using var data = new TempFolder("cv-migrate-");
        Load(Path.Combine(Fixtures, "state.sql"), Path.Combine(data.Path, "state.db"));
        Load(Path.Combine(Fixtures, "timeseries.sql"), Path.Combine(data.Path, "timeseries.db"));
        Directory.CreateDirectory(Path.Combine(data.Path, "evidence"));
        File.Copy(Path.Combine(Fixtures, "evidence", "r0-ev-1.jpg"), Path.Combine(data.Path, "evidence", "r0-ev-1.jpg"));
        var keys = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "agent-keys.json"))).RootElement;

        using var server = new ServerFactory(new() { ["CinemaVision:DataDirectory"] = data.Path });
        using var admin = server.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        using (var login = await admin.PostAsync(new Uri("/login", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = "admin", ["password"] = "release0-admin-pass" })))
        {
            Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        }

        Assert.Equal(CinemaVision.Server.Storage.StateMigrations.All.Max(m => m.Version), Scalar(Path.Combine(data.Path, "state.db"), "PRAGMA user_version"));
        Assert.Equal(1, Scalar(Path.Combine(data.Path, "timeseries.db"), "PRAGMA user_version"));
        Assert.Equal(0, Scalar(Path.Combine(data.Path, "state.db"), "SELECT COUNT(*) FROM sqlite_master WHERE name = 'ingested_items'"));

        // Step 3: the agent was keyed twice in release 0 and both keys worked; now only the newest does.
        HttpClient Agent(string key)
        {
            var c = server.CreateClient();
            c.DefaultRequestHeaders.Add("X-Api-Key", key);
            return c;
        }

        using var oldAgent = Agent(keys.GetProperty("oldKey").GetString()!);
        using var agent = Agent(keys.GetProperty("newKey").GetString()!);
        using (var config = await oldAgent.GetAsync(new Uri("/api/v1/agent/config", UriKind.Relative))) Assert.Equal(HttpStatusCode.Forbidden, config.StatusCode);

        // The ledger moved with its ids: the release-0 batch replayed is all duplicates, and raises nothing new.
        var t = DateTimeOffset.UtcNow.AddHours(-1);
        var replay = new IngestBatch("r0-b1", "edge-1", t, [Samples.Occupancy("r0-o1", "site-a", "aud-1", t, 10), new PiracySuspicion("r0-p1", "r0-inc-1", IncidentPhase.Start, RecordingDevice.Phone, "site-a", "aud-1", "cam-1", "F12", t, t, 6.5, 0.8)]);
        using (var again = await agent.PostAsJsonAsync("/api/v1/ingest/batches", replay, IngestJson.Options))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal(2, (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicates").GetInt32());
        }

        var alerts = await admin.GetFromJsonAsync<JsonElement>("/api/v1/alerts");
        Assert.Equal(2, alerts.GetArrayLength());
        Assert.Equal(File.ReadAllBytes(Path.Combine(Fixtures, "evidence", "r0-ev-1.jpg")), await admin.GetByteArrayAsync(new Uri("/api/v1/evidence/r0-ev-1.jpg", UriKind.Relative)));

        // The rebuilt series tables kept their rows, and a new incident still becomes an alert.
        Assert.Equal(2, Scalar(Path.Combine(data.Path, "timeseries.db"), "SELECT COUNT(*) FROM occupancy"));
        using (var fresh = await agent.PostAsJsonAsync("/api/v1/ingest/batches", Samples.Batch("edge-1", "new-1", piracy: [Samples.Piracy("new-p1", "site-a", "aud-2", DateTimeOffset.UtcNow)]), IngestJson.Options))
        {
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        }

        var sw = Stopwatch.StartNew();
        while ((await admin.GetFromJsonAsync<JsonElement>("/api/v1/alerts")).GetArrayLength() < 3 && sw.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(100);
        Assert.Equal(3, (await admin.GetFromJsonAsync<JsonElement>("/api/v1/alerts")).GetArrayLength());
    }

    [Fact]
    public void DatabaseFromANewerRelease_ServiceRefusesToStartNamingIt()
    {
        using var data = new TempFolder("cv-newer-");
        using (var c = new SqliteConnection($"Data Source={Path.Combine(data.Path, "state.db")};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "CREATE TABLE users (user_name TEXT); PRAGMA user_version = 99;";
            cmd.ExecuteNonQuery();
        }

        using var server = new ServerFactory(new() { ["CinemaVision:DataDirectory"] = data.Path });
        var ex = Assert.ThrowsAny<Exception>(() => server.CreateClient());
        Assert.Contains("schema version 99", ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BackupWhileIngesting_RestoredIntoAFreshFolder_ServesAlertsEvidenceSeriesAndLedger()
    {
        using var data = new TempFolder("cv-backup-src-");
        using var backups = new TempFolder("cv-backups-");
        using var restored = new TempFolder("cv-backup-dst-");
        var backup = Path.Combine(backups.Path, "b1");
        var target = Path.Combine(restored.Path, "data");
        var t = DateTimeOffset.UtcNow.AddMinutes(-30);
        var before = Enumerable.Range(0, 20).Select(b => new IngestBatch($"pre{b}", "edge-1", t, [.. Enumerable.Range(0, 50).Select(i => (EdgeEvent)Samples.Occupancy($"pre{b}-{i}", "site-a", "aud-1", t.AddMilliseconds((b * 50) + i), i)), Samples.Piracy($"pre-p{b}", "site-a", $"aud-{b}", t)])).ToList();
        await using (var server = new ServerProcess(data.Path))
        {
            await server.StartAsync();
            using var admin = await server.AdminAsync();
            var key = await server.CreateAgentKeyAsync(admin, "edge-1", "site-a");
            using var agent = server.Client();
            agent.DefaultRequestHeaders.Add("X-Api-Key", key);
            foreach (var b in before)
            {
                using var r = await agent.PostAsync(new Uri("/api/v1/ingest/batches", UriKind.Relative), ServerProcess.Json(b));
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            }

            using (var ev = new ByteArrayContent(TestImages.Jpeg(200, 100)))
            {
                ev.Headers.ContentType = new("image/jpeg");
                using var put = await agent.PutAsync(new Uri("/api/v1/evidence/ev-pre-p0.jpg", UriKind.Relative), ev);
                Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            }

            var sw = Stopwatch.StartNew();
            while ((await admin.GetFromJsonAsync<JsonElement>("/api/v1/alerts")).GetArrayLength() < 20 && sw.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(100);

            // Online: the agent keeps posting while the backup runs.
            using var stop = new CancellationTokenSource();
            var during = Task.Run(async () =>
            {
                var n = 0;
                while (!stop.IsCancellationRequested)
                {
                    using var r = await agent.PostAsync(new Uri("/api/v1/ingest/batches", UriKind.Relative), ServerProcess.Json(Samples.Batch("edge-1", $"during{n}", occupancy: [Samples.Occupancy($"during{n}", "site-a", "aud-9", t.AddSeconds(n), 1)])));
                    n++;
                }

                return n;
            });
            var (code, text) = await RunServerCommandAsync("backup", "--out", backup, "--data", data.Path);
            await stop.CancelAsync();
            output.WriteLine($"backup while {await during} batches were posted: {text}");
            Assert.Equal(0, code);
        }

        // A backup is restored only into a folder without a service's data, and only when it is intact.
        var (restoreCode, restoreText) = await RunServerCommandAsync("restore", "--from", backup, "--data", target);
        Assert.True(restoreCode == 0, restoreText);
        var (again, againText) = await RunServerCommandAsync("restore", "--from", backup, "--data", target);
        Assert.Equal(1, again);
        Assert.Contains("already holds", againText, StringComparison.Ordinal);

        await using (var server = new ServerProcess(target))
        {
            await server.StartAsync();
            using var admin = await server.AdminAsync();
            Assert.Equal(20, (await admin.GetFromJsonAsync<JsonElement>("/api/v1/alerts")).GetArrayLength());
            Assert.Equal(TestImages.Jpeg(200, 100), await admin.GetByteArrayAsync(new Uri("/api/v1/evidence/ev-pre-p0.jpg", UriKind.Relative)));
            var agents = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/agents");
            Assert.Equal("edge-1", agents[0].GetProperty("agentId").GetString());
        }

        Assert.Equal(1000, Scalar(Path.Combine(target, "timeseries.db"), "SELECT COUNT(*) FROM occupancy WHERE auditorium = 'aud-1'"));
        Assert.True(Scalar(Path.Combine(target, "timeseries.db"), "SELECT COUNT(*) FROM ingested_items WHERE item_id LIKE 'pre%'") == 1020);

        // Damage one file: the restore refuses and names it.
        File.AppendAllText(Path.Combine(backup, "evidence", "ev-pre-p0.jpg"), "x");
        var (damaged, damagedText) = await RunServerCommandAsync("restore", "--from", backup, "--data", Path.Combine(restored.Path, "other"));
        Assert.Equal(1, damaged);
        Assert.Contains("evidence/ev-pre-p0.jpg", damagedText, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Output)> RunServerCommandAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "CinemaVision.Server.dll"), .. args]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stdout + await stderr);
    }
}

using System.Net;
using System.Net.Http.Json;
using CinemaVision.Core.Cameras;
using CinemaVision.Core.Collection;
using CinemaVision.Core.Events;
using CinemaVision.Edge.Analysis;
using CinemaVision.Edge.Collection;
using CinemaVision.Edge.Configuration;
using CinemaVision.Edge.Operations;
using CinemaVision.Edge.Outbox;
using CinemaVision.Edge.Upload;
using CinemaVision.Testing;
using CinemaVision.Vision.Auditoriums;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenCvSharp;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace CinemaVision.Edge.Tests;

/// <summary>Keeps what the code under test logs, to check that a refusal is explained.</summary>
internal sealed class ListLogger<T> : ILogger<T>
{
    public List<string> Lines { get; } = [];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Lines) Lines.Add(formatter(state, exception));
    }
}

/// <summary>
/// The agent's client pieces against a real centre process (in this process: the uploader, the reference service and
/// the HTTP client with a pinned certificate), for the answers a whole agent run cannot easily provoke.
/// </summary>
[Collection("processes")]
public sealed class CentreClientTests : IAsyncLifetime
{
    private string _dir = "";

    public Task InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("cv-client-").FullName;
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    private AgentOptions Options(EdgeSystem system, string? pin = null) => new()
    {
        CentralUrl = system.Centre.BaseUrl,
        AgentId = EdgeSystem.AgentId,
        KeyFile = Path.Combine(system.Agent.Directory, "agent.key"),
        ApiKey = File.ReadAllText(Path.Combine(system.Agent.Directory, "agent.key")).Trim(),
        DataDirectory = Path.Combine(_dir, "client-data"),
        CentralCertificateSha256 = pin,
        Cameras = [new AgentCamera { Id = "cam-1", AuditoriumId = "aud-1", Url = TestFootage.PetsClip }],
    };

    private static byte[] Jpeg(int shade)
    {
        using var mat = new Mat(120, 160, MatType.CV_8UC3, new Scalar(shade, shade, shade));
        Cv2.ImEncode(".jpg", mat, out var jpeg);
        return jpeg;
    }

    [Fact]
    public async Task EvidenceAnswered409_IsDroppedAndLogged_TheSuspicionNamingItIsStillSent()
    {
        await using var system = await EdgeSystem.StartAsync(_dir, startAgent: false);
        var options = Options(system);
        using var centre = new CentreClient(options);
        // The id already belongs to other bytes at the centre: evidence is never overwritten, so 409 for ever.
        Assert.True((await centre.PutEvidenceAsync("ev-taken", Jpeg(40), CancellationToken.None)).IsSuccess);
        Assert.Equal(HttpStatusCode.Conflict, (await centre.PutEvidenceAsync("ev-taken", Jpeg(200), CancellationToken.None)).Status);

        var now = DateTimeOffset.UtcNow;
        using var outbox = new EventOutbox(Path.Combine(_dir, "outbox"), new OutboxLimits(), TimeProvider.System, NullLogger<EventOutbox>.Instance);
        var suspicion = new PiracySuspicion("pir-409", "inc-409", IncidentPhase.Start, RecordingDevice.Phone, EdgeSystem.SiteId, "aud-1", "cam-1", null, now, now, 12, 0.8, "ev-taken");
        outbox.Add([suspicion], new Dictionary<string, byte[]> { ["ev-taken"] = Jpeg(200) });
        var logger = new ListLogger<Uploader>();
        using var uploader = new Uploader(outbox, centre, options, new AgentMetrics(), TimeProvider.System, logger);

        Assert.Equal(Uploader.SendOutcome.Sent, await uploader.SendOnceAsync(CancellationToken.None));
        Assert.Equal(0, outbox.Stats().Pending);
        Assert.Contains("pir-409", system.Centre.LedgerOf(EdgeSystem.AgentId).Keys);
        Assert.Contains(logger.Lines, l => l.Contains("ev-taken", StringComparison.Ordinal) && l.Contains("409", StringComparison.Ordinal));
    }

    /// <summary>Answers the first batch uploads itself (as a proxy in front of a dead centre might), then passes requests on.</summary>
    private sealed class AnsweringInsteadOfTheCentre(Queue<Func<HttpResponseMessage>> answers) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            request.RequestUri!.AbsolutePath.EndsWith("/ingest/batches", StringComparison.Ordinal) && answers.TryDequeue(out var answer)
                ? Task.FromResult(answer())
                : base.SendAsync(request, cancellationToken);
    }

    [Fact]
    public async Task Uploader_A2xxThatIsNotTheCentresReceiptForTheBatch_LeavesItPending_StandInProxyAnswers()
    {
        // Regression: a proxy in front of a dead centre answered 200 with an empty body, and the agent marked events sent
        // that the centre never stored. A batch now counts as stored only on the centre's receipt naming it.
        await using var system = await EdgeSystem.StartAsync(_dir, startAgent: false);
        var options = Options(system);
        var answers = new Queue<Func<HttpResponseMessage>>(
        [
            () => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent([]) },
            () => new HttpResponseMessage(HttpStatusCode.OK) { Content = JsonContent.Create(new IngestResult("another-batch", 1, 0)) },
            () => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("<html>Welcome to the hotel network</html>") },
        ]);
        using var centre = new CentreClient(options, new AnsweringInsteadOfTheCentre(answers));
        using var outbox = new EventOutbox(Path.Combine(_dir, "outbox-receipt"), new OutboxLimits(), TimeProvider.System, NullLogger<EventOutbox>.Instance);
        var now = DateTimeOffset.UtcNow;
        outbox.Add([new OccupancySample("occ-receipt", EdgeSystem.SiteId, "aud-1", "cam-1", now, 3, 2, 10, 0, 0.9)]);
        var logger = new ListLogger<Uploader>();
        using var uploader = new Uploader(outbox, centre, options, new AgentMetrics(), TimeProvider.System, logger);

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(Uploader.SendOutcome.Failed, await uploader.SendOnceAsync(CancellationToken.None));
            Assert.Equal(1, outbox.Stats().Pending);
        }

        Assert.Contains(logger.Lines, l => l.Contains("no receipt (empty body)", StringComparison.Ordinal));
        Assert.Contains(logger.Lines, l => l.Contains("a receipt for batch another-batch", StringComparison.Ordinal));
        Assert.DoesNotContain("occ-receipt", system.Centre.LedgerOf(EdgeSystem.AgentId).Keys);

        // The real centre's answer carries the receipt: now it is stored and marked sent.
        Assert.Equal(Uploader.SendOutcome.Sent, await uploader.SendOnceAsync(CancellationToken.None));
        Assert.Equal(0, outbox.Stats().Pending);
        Assert.Contains("occ-receipt", system.Centre.LedgerOf(EdgeSystem.AgentId).Keys);
    }

    [Fact]
    public async Task CapturedReference_IsUploadedToTheCentre_AndPulledBackByAFreshAgent()
    {
        await using var system = await EdgeSystem.StartAsync(_dir, startAgent: false);
        var options = Options(system);
        using var centre = new CentreClient(options);
        using var config = new SiteConfigService(options, centre, TimeProvider.System, NullLogger<SiteConfigService>.Instance);
        using var references = new ReferenceService(options, centre, config, TimeProvider.System, NullLogger<ReferenceService>.Instance);
        var jpeg = Jpeg(90);
        references.Captured("aud-1", "cam-1", new CapturedReference(LightingMode.Dim, jpeg, DateTimeOffset.UtcNow));
        Assert.Null(await references.UploadAsync(EdgeSystem.SiteId, CancellationToken.None));

        using (var r = await system.Centre.Admin.GetAsync(new Uri($"/api/v1/sites/{EdgeSystem.SiteId}/auditoriums/aud-1/cameras/cam-1/reference/dim", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal(jpeg, await r.Content.ReadAsByteArrayAsync());
        }

        // A replaced agent (empty data folder) gets it back.
        var fresh = options with { DataDirectory = Path.Combine(_dir, "fresh-data") };
        using var freshConfig = new SiteConfigService(fresh, centre, TimeProvider.System, NullLogger<SiteConfigService>.Instance);
        using var pulled = new ReferenceService(fresh, centre, freshConfig, TimeProvider.System, NullLogger<ReferenceService>.Instance);
        await pulled.PullAsync(EdgeSystem.SiteId, CancellationToken.None);
        var stored = Assert.Single(pulled.For("aud-1", "cam-1"));
        Assert.Equal(LightingMode.Dim, stored.Mode);
        Assert.Equal(jpeg, await File.ReadAllBytesAsync(stored.Path));
        Assert.Equal(1, pulled.Version("aud-1", "cam-1"));

        // Pulled again: unchanged (ETag), no new version for the camera to apply.
        await pulled.PullAsync(EdgeSystem.SiteId, CancellationToken.None);
        Assert.Equal(1, pulled.Version("aud-1", "cam-1"));
    }

    [Fact]
    public async Task PinnedCertificate_MatchingIsAccepted_AnotherIsRefusedWithBothFingerprintsLogged()
    {
        await using var system = await EdgeSystem.StartAsync(_dir, new EdgeSystemOptions { Https = true }, startAgent: false);
        var pin = system.Centre.CertificateSha256;

        using (var pinned = new CentreClient(Options(system, pin)))
        {
            var answer = await pinned.GetWithETagAsync("/api/v1/agent/config", null, CancellationToken.None);
            Assert.Equal(HttpStatusCode.OK, answer.Status);
        }

        var logger = new ListLogger<CentreClient>();
        var wrong = string.Concat(pin.Reverse());
        using var refused = new CentreClient(Options(system, wrong), logger: logger);
        await Assert.ThrowsAsync<HttpRequestException>(() => refused.GetWithETagAsync("/api/v1/agent/config", null, CancellationToken.None));
        var line = Assert.Single(logger.Lines.Distinct());
        Assert.Contains(pin, line, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(wrong, line, StringComparison.OrdinalIgnoreCase);

        // Without a pin the generated certificate is not trusted by the system's store: refused too.
        using var unpinned = new CentreClient(Options(system));
        await Assert.ThrowsAsync<HttpRequestException>(() => unpinned.GetWithETagAsync("/api/v1/agent/config", null, CancellationToken.None));
    }

    [Fact]
    public async Task KeptFrames_403DeletesTheAuditoriumsCopies_Another4xxDropsTheFrame_2xxStoresAndDeletesLocally()
    {
        await using var system = await EdgeSystem.StartAsync(_dir, startAgent: false);
        var options = Options(system);
        using var centre = new CentreClient(options);
        using var collection = new FrameCollectionService(options, centre, TimeProvider.System, NullLogger<FrameCollectionService>.Instance);
        var policy = new FrameCollectionPolicy { Enabled = true };
        CollectedFrameMeta Meta(string id, params string[] reasons) => new() { Id = id, AuditoriumId = "aud-1", CameraId = "cam-1", CapturedAt = DateTimeOffset.UtcNow, Reasons = reasons, Width = 160, Height = 120 };
        var local = Path.Combine(collection.Root, "aud-1");

        // Off at the centre (the default): 403, and nothing of the auditorium stays here.
        collection.Store(Meta("f-1", CollectionReasons.Schedule), Jpeg(10), policy);
        collection.Store(Meta("f-2", CollectionReasons.Schedule), Jpeg(20), policy);
        Assert.Equal(TimeSpan.FromSeconds(5), await collection.UploadPendingAsync(CancellationToken.None));
        Assert.False(Directory.Exists(local));

        using (var r = await system.Centre.Admin.PutAsJsonAsync(new Uri($"/api/v1/sites/{EdgeSystem.SiteId}/auditoriums/aud-1/collection", UriKind.Relative), new { enabled = true }))
        {
            Assert.True(r.IsSuccessStatusCode);
        }

        // A frame the centre will never take (an unknown reason: 400) is dropped, the next one still goes.
        collection.Store(Meta("f-3", "a-reason-the-centre-does-not-know"), Jpeg(30), policy);
        collection.Store(Meta("f-4", CollectionReasons.NearThreshold), Jpeg(40), policy);
        Assert.Equal(TimeSpan.FromSeconds(5), await collection.UploadPendingAsync(CancellationToken.None));
        Assert.Empty(Directory.EnumerateFiles(local));
        var listed = await system.Centre.GetJsonAsync("/api/v1/frames?auditoriumId=aud-1");
        Assert.Equal(["f-4"], listed.EnumerateArray().Select(f => f.GetProperty("meta").GetProperty("id").GetString()));

        // The centre unreachable: the frame stays and the uploader backs off.
        var down = options with { CentralUrl = new Uri("http://127.0.0.1:9") };
        using var nowhere = new CentreClient(down);
        using var offline = new FrameCollectionService(down, nowhere, TimeProvider.System, NullLogger<FrameCollectionService>.Instance);
        offline.Store(Meta("f-5", CollectionReasons.Schedule), Jpeg(50), policy);
        Assert.InRange(await offline.UploadPendingAsync(CancellationToken.None), TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(30));
        Assert.Single(offline.Pending());
    }

    [Fact]
    public void KeptFrames_RetentionAndSizeCap_OldestGoFirst()
    {
        var options = new AgentOptions { CentralUrl = new Uri("http://127.0.0.1:9"), AgentId = "a", KeyFile = "unused", DataDirectory = Path.Combine(_dir, "retention") };
        using var centre = new CentreClient(options);
        using var collection = new FrameCollectionService(options, centre, TimeProvider.System, NullLogger<FrameCollectionService>.Instance);
        var jpeg = new byte[400 * 1024];
        var policy = new FrameCollectionPolicy { Enabled = true, RetentionDays = 1, MaxBytes = 1024 * 1024 };
        var now = DateTimeOffset.UtcNow;
        CollectedFrameMeta Meta(string id, DateTimeOffset at) => new() { Id = id, AuditoriumId = "aud-1", CameraId = "cam-1", CapturedAt = at, Reasons = [CollectionReasons.Schedule] };
        collection.Store(Meta("old", now.AddDays(-2)), jpeg, policy);
        collection.Store(Meta("a", now.AddMinutes(-3)), jpeg, policy);
        collection.Store(Meta("b", now.AddMinutes(-2)), jpeg, policy);
        collection.Store(Meta("c", now.AddMinutes(-1)), jpeg, policy);
        // "old" is past the retention; a, b, c are 1.2 MB together, over the 1 MiB cap: "a" goes.
        Assert.Equal(["b", "c"], collection.Pending().Select(p => p.Meta.Id));
    }
}

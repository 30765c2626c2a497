using CinemaVision.Core.Events;
using CinemaVision.Edge.Configuration;
using CinemaVision.Edge.Outbox;
using CinemaVision.Edge.Upload;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace CinemaVision.Edge.Tests;

public sealed class OutboxTests : IDisposable
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow.AddMinutes(-10);
    private readonly string _dir = Directory.CreateTempSubdirectory("cv-outbox-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private EventOutbox Open(long maxBytes = 64L * 1024 * 1024) => new(_dir, new OutboxLimits { MaxBytes = maxBytes }, TimeProvider.System, NullLogger<EventOutbox>.Instance);

    private static OccupancySample Sample(int i) => new($"occ-{i}", "s", "a", "c", T0.AddSeconds(i), 3, 2, 10, 0, 0.9);

    private static PiracySuspicion Suspicion(int i) => new($"pir-{i}", $"inc-{i}", IncidentPhase.Start, RecordingDevice.Phone, "s", "a", "c", "F12", T0.AddSeconds(i), T0.AddSeconds(i), 21, 0.8, $"inc-{i}.jpg");

    [Fact]
    public void Added_SurvivesReopen_SameIdOnce_IncidentsFirst()
    {
        using (var outbox = Open())
        {
            Assert.Equal(2, outbox.Add([Sample(1), Sample(2)]));
            Assert.Equal(1, outbox.Add([Sample(2), Suspicion(3)], new Dictionary<string, byte[]> { ["inc-3.jpg"] = [0xFF, 0xD8, 0xFF, 0xD9] }));
        }

        using var again = Open();
        var pending = again.Pending(10);
        Assert.Equal(["pir-3", "occ-1", "occ-2"], pending.Select(p => p.Id));
        Assert.Equal("inc-3.jpg", pending[0].EvidenceId);
        Assert.IsType<PiracySuspicion>(IngestJson.Deserialize(pending[0].Body));
        Assert.Equal(3, again.Stats().Produced);
        Assert.Single(again.EvidenceToUpload(["inc-3.jpg"]));
    }

    [Fact]
    public void Sent_LeavesThePendingList_EvidenceDeletedOnceUploadedAndSent()
    {
        using var outbox = Open();
        outbox.Add([Suspicion(1), Sample(2)], new Dictionary<string, byte[]> { ["inc-1.jpg"] = [0xFF, 0xD8, 0xFF, 0xD9] });
        var pending = outbox.Pending(10);
        outbox.MarkEvidenceUploaded("inc-1.jpg");
        outbox.MarkSent([pending[0].Seq]);

        Assert.Equal(["occ-2"], outbox.Pending(10).Select(p => p.Id));
        Assert.Empty(outbox.EvidenceToUpload(["inc-1.jpg"]));
        var stats = outbox.Stats();
        Assert.Equal(1, stats.Sent);
        Assert.Equal(0, stats.EvidencePending);
    }

    [Fact]
    public void Full_OldestSamplesDroppedAndCounted_IncidentsNever()
    {
        using var outbox = Open(maxBytes: 6000);
        for (int i = 0; i < 10; i++) outbox.Add([Suspicion(i)]);
        for (int i = 100; i < 140; i++) outbox.Add([Sample(i)]);

        var stats = outbox.Stats();
        var ids = outbox.Pending(1000).Select(p => p.Id).ToList();
        Assert.True(stats.Dropped > 0, "nothing was dropped");
        Assert.True(stats.Bytes <= 6000 || ids.All(id => id.StartsWith("pir-", StringComparison.Ordinal)), $"bytes {stats.Bytes}");
        Assert.Equal(10, ids.Count(id => id.StartsWith("pir-", StringComparison.Ordinal)));
        // The newest samples are the ones kept.
        Assert.Contains("occ-139", ids);
        Assert.DoesNotContain("occ-100", ids);
        Assert.Equal(40 - stats.Dropped, ids.Count(id => id.StartsWith("occ-", StringComparison.Ordinal)));
    }

    [Fact]
    public void CorruptFile_SetAsideAndAFreshOutboxStarted()
    {
        File.WriteAllText(Path.Combine(_dir, EventOutbox.FileName), "this is not a database, a disk sector went bad " + new string('x', 5000));

        using var outbox = Open();

        Assert.NotNull(outbox.SetAside);
        Assert.True(File.Exists(outbox.SetAside));
        Assert.Equal(1, outbox.Add([Sample(1)]));
        Assert.Single(outbox.Pending(10));
    }

    [Theory]
    [InlineData(1, 0.0, 250)]
    [InlineData(1, 1.0, 500)]
    [InlineData(4, 1.0, 4000)]
    [InlineData(30, 1.0, 30000)]
    [InlineData(30, 0.0, 15000)]
    public void Backoff_ExponentialWithJitterCapped(int failures, double jitter, double expectedMs) =>
        Assert.Equal(expectedMs, UploadBackoff.Delay(failures, jitter).TotalMilliseconds, 1);

    [Fact]
    public void Backoff_RetryAfterIsAFloor() =>
        Assert.Equal(TimeSpan.FromSeconds(7), UploadBackoff.Delay(1, 0.5, TimeSpan.FromSeconds(7)));
}

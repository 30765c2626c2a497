using CinemaVision.Core.Events;
using CinemaVision.Server.Storage.TimeSeries;
using CinemaVision.Server.Tests.Infrastructure;

namespace CinemaVision.Server.Tests.Storage;

/// <summary>
/// What every time-series store must do, run against each real implementation. Each test writes to its own site
/// so the tests share one server without seeing each other's data.
/// </summary>
public abstract class TimeSeriesStoreContract
{
    private static readonly CancellationToken None = CancellationToken.None;

    protected abstract ITimeSeriesStore Store { get; }

    private static string NewSite() => "site-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task GetOccupancyAsync_RawRange_ReturnsAuditoriumWideSamplesOldestFirst()
    {
        var site = NewSite();
        var t0 = Samples.RecentMinute();
        await Store.WriteAsync(Samples.Batch("edge", "b1", occupancy:
        [
            Samples.Occupancy("o2", site, "aud-1", t0.AddSeconds(20), 40),
            Samples.Occupancy("o1", site, "aud-1", t0.AddSeconds(10), 30),
            Samples.Occupancy("o3", site, "aud-1", t0.AddSeconds(10), 99, camera: "cam-2"),
            Samples.Occupancy("o4", site, "aud-2", t0.AddSeconds(10), 7),
            Samples.Occupancy("o5", site, "aud-1", t0.AddMinutes(10), 50),
        ]), None);

        var points = await Store.GetOccupancyAsync(site, "aud-1", t0, t0.AddMinutes(5), OccupancyResolution.Raw, None);

        Assert.Equal([30.0, 40.0], points.Select(p => p.People));
        Assert.Equal(t0.AddSeconds(10), points[0].Timestamp);
        Assert.Equal(200, points[0].SeatsTotal);
    }

    [Fact]
    public async Task WriteAsync_SameItemTwice_StoredOnce()
    {
        var site = NewSite();
        var t0 = Samples.RecentMinute();
        var batch = Samples.Batch("edge", "b1", occupancy: [Samples.Occupancy("o1", site, "aud-1", t0, 12)], seats: [Samples.Seat("s1", site, "aud-1", "A1", t0, SeatState.Occupied)]);

        await Store.WriteAsync(batch, None);
        await Store.WriteAsync(batch, None);

        Assert.Single(await Store.GetOccupancyAsync(site, "aud-1", t0.AddMinutes(-1), t0.AddMinutes(1), OccupancyResolution.Raw, None));
        Assert.Single(await Store.GetSeatChangesAsync(site, "aud-1", t0.AddMinutes(-1), t0.AddMinutes(1), None));
    }

    [Fact]
    public async Task WriteAsync_DistinctItemsAtTheSameInstant_BothKept()
    {
        var site = NewSite();
        var t0 = Samples.RecentMinute();
        await Store.WriteAsync(Samples.Batch("edge", "b1",
            seats: [Samples.Seat("s1", site, "aud-1", "A1", t0, SeatState.Occupied), Samples.Seat("s2", site, "aud-1", "A1", t0, SeatState.Empty)],
            piracy: [Samples.Piracy("p1", site, "aud-1", t0) with { SeatId = "F12" }, Samples.Piracy("p2", site, "aud-1", t0) with { SeatId = "F14" }]), None);

        var seats = await Store.GetSeatChangesAsync(site, "aud-1", t0.AddMinutes(-1), t0.AddMinutes(1), None);
        var incidents = await Store.GetEventsAsync(new EventQuery(site, t0.AddMinutes(-1), t0.AddMinutes(1)), None);
        var states = await Store.GetSeatStatesAtAsync(site, "aud-1", t0.AddSeconds(1), None);

        Assert.Equal(["s1", "s2"], seats.Select(s => s.Id).Order(StringComparer.Ordinal));
        Assert.Equal(["p1", "p2"], incidents.Select(e => e.Id).Order(StringComparer.Ordinal));
        Assert.Single(states);
    }

    [Fact]
    public async Task RunMaintenanceAsync_SamplesInTwoMinutes_OneMinuteRollupsAverageEachMinute()
    {
        var site = NewSite();
        var t0 = Samples.RecentMinute();
        await Store.WriteAsync(Samples.Batch("edge", "b1", occupancy:
        [
            Samples.Occupancy("o1", site, "aud-1", t0.AddSeconds(0), 10),
            Samples.Occupancy("o2", site, "aud-1", t0.AddSeconds(30), 20),
            Samples.Occupancy("o3", site, "aud-1", t0.AddSeconds(60), 40),
        ]), None);

        await Store.RunMaintenanceAsync(DateTimeOffset.UtcNow, None);
        var rollups = await Store.GetOccupancyAsync(site, "aud-1", t0, t0.AddMinutes(5), OccupancyResolution.OneMinute, None);

        Assert.Equal(2, rollups.Count);
        Assert.Equal(t0, rollups[0].Timestamp);
        Assert.Equal(15.0, rollups[0].People, 3);
        Assert.Equal(2, rollups[0].SampleCount);
        Assert.Equal(40.0, rollups[1].People, 3);
    }

    [Fact]
    public async Task GetLatestOccupancyAsync_TwoAuditoriums_NewestSampleOfEach()
    {
        var site = NewSite();
        var t0 = Samples.RecentMinute();
        await Store.WriteAsync(Samples.Batch("edge", "b1", occupancy:
        [
            Samples.Occupancy("o1", site, "aud-1", t0, 10),
            Samples.Occupancy("o2", site, "aud-1", t0.AddSeconds(5), 11, showing: "show-1"),
            Samples.Occupancy("o3", site, "aud-2", t0.AddSeconds(1), 70),
        ]), None);

        var latest = await Store.GetLatestOccupancyAsync(site, None);

        Assert.Equal(["aud-1", "aud-2"], latest.Select(o => o.AuditoriumId));
        Assert.Equal("o2", latest[0].Id);
        Assert.Equal("show-1", latest[0].ShowingId);
        Assert.Null(latest[0].CameraId);
        Assert.Equal(70, latest[1].People);
    }

    [Fact]
    public async Task GetShowingOccupancyAsync_TwoShowings_OnlyThatShowing()
    {
        var site = NewSite();
        var t0 = Samples.RecentMinute();
        await Store.WriteAsync(Samples.Batch("edge", "b1", occupancy:
        [
            Samples.Occupancy("o1", site, "aud-1", t0, 10, showing: "show-1"),
            Samples.Occupancy("o2", site, "aud-1", t0.AddSeconds(5), 12, showing: "show-1"),
            Samples.Occupancy("o3", site, "aud-1", t0.AddSeconds(9), 1, showing: "show-2"),
        ]), None);

        var series = await Store.GetShowingOccupancyAsync(site, "aud-1", "show-1", None);

        Assert.Equal(["o1", "o2"], series.Select(o => o.Id));
    }

    [Fact]
    public async Task GetSeatStatesAtAsync_SeveralChanges_LastStateAtOrBeforeInstant()
    {
        var site = NewSite();
        var t0 = Samples.RecentMinute();
        await Store.WriteAsync(Samples.Batch("edge", "b1", seats:
        [
            Samples.Seat("s1", site, "aud-1", "A1", t0, SeatState.Occupied),
            Samples.Seat("s2", site, "aud-1", "A1", t0.AddSeconds(30), SeatState.Empty),
            Samples.Seat("s3", site, "aud-1", "A2", t0.AddSeconds(10), SeatState.Occupied),
            Samples.Seat("s4", site, "aud-1", "A3", t0.AddSeconds(90), SeatState.Occupied),
        ]), None);

        var states = await Store.GetSeatStatesAtAsync(site, "aud-1", t0.AddSeconds(20), None);
        var changes = await Store.GetSeatChangesAsync(site, "aud-1", t0, t0.AddSeconds(60), None);

        Assert.Equal(2, states.Count);
        Assert.Equal(SeatState.Occupied, states["A1"].State);
        Assert.Equal(SeatState.Occupied, states["A2"].State);
        Assert.Equal(["s1", "s3", "s2"], changes.Select(c => c.Id));
    }

    [Fact]
    public async Task GetEventsAsync_KindFilter_OnlyThatKindNewestFirst()
    {
        var site = NewSite();
        var t0 = Samples.RecentMinute();
        await Store.WriteAsync(Samples.Batch("edge", "b1",
            anomalies: [Samples.Anomaly("a1", site, "aud-1", t0), Samples.Anomaly("a2", site, "aud-1", t0.AddSeconds(5), AnomalyKind.PresentAfterShow)],
            piracy: [Samples.Piracy("p1", site, "aud-1", t0.AddSeconds(10))],
            cameraHealth: [Samples.CameraHealth("c1", site, "aud-1", t0.AddSeconds(15))]), None);

        var all = await Store.GetEventsAsync(new EventQuery(site, t0, t0.AddMinutes(1)), None);
        var aisle = await Store.GetEventsAsync(new EventQuery(site, t0, t0.AddMinutes(1), "aud-1", nameof(AnomalyKind.AisleStanding)), None);
        var piracy = await Store.GetEventsAsync(new EventQuery(site, t0, t0.AddMinutes(1), Kind: IncidentTypes.Piracy), None);

        Assert.Equal(["c1", "p1", "a2", "a1"], all.Select(e => e.Id));
        Assert.Equal("a1", Assert.Single(aisle).Id);
        var p = Assert.Single(piracy);
        Assert.Equal("ev-p1", p.EvidenceId);
        Assert.Equal("F12", p.SeatId);
        Assert.Equal(nameof(RecordingDevice.Phone), p.Kind);
    }

    [Fact]
    public async Task GetCameraHealthAsync_StartAndEnd_RoundTripsTheEvents()
    {
        var site = NewSite();
        var t0 = Samples.RecentMinute();
        var start = Samples.CameraHealth("c1", site, "aud-1", t0);
        var end = start with { Id = "c2", Phase = IncidentPhase.End, Timestamp = t0.AddMinutes(2) };
        await Store.WriteAsync(Samples.Batch("edge", "b1", cameraHealth: [end, start]), None);

        var timeline = await Store.GetCameraHealthAsync(site, "aud-1", "cam-1", t0.AddMinutes(-1), t0.AddMinutes(5), None);

        Assert.Equal([start, end], timeline);
    }

    [Fact]
    public async Task GetLatestAgentHealthAsync_TwoAgents_NewestHeartbeatOfEachWithCameraFigures()
    {
        var site = NewSite();
        var t0 = Samples.RecentMinute();
        var older = Samples.Heartbeat("h1", "agent-a", site, t0, outbox: 5);
        var newer = Samples.Heartbeat("h2", "agent-a", site, t0.AddSeconds(30), outbox: 2);
        var other = Samples.Heartbeat("h3", "agent-b", site, t0.AddSeconds(10), outbox: 0);
        await Store.WriteAsync(Samples.Batch("agent-a", "b1") with { Events = [older, newer] }, None);
        await Store.WriteAsync(Samples.Batch("agent-b", "b2") with { Events = [other] }, None);

        var latest = await Store.GetLatestAgentHealthAsync(site, None);
        var history = await Store.GetAgentHealthAsync(site, t0, t0.AddMinutes(1), None);

        Assert.Equal(["h2", "h3"], latest.Select(h => h.Id));
        Assert.Equal(2, latest[0].OutboxPending);
        Assert.Equal(newer.Cameras[0], latest[0].Cameras[0]);
        Assert.Equal(["h1", "h3", "h2"], history.Select(h => h.Id));
    }
}

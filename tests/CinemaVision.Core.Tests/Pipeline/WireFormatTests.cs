using System.Text.Json;
using CinemaVision.Core.Events;

namespace CinemaVision.Core.Tests.Pipeline;

public class WireFormatTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 20, 0, 0, TimeSpan.Zero);

    private static IReadOnlyList<EdgeEvent> OneOfEach() =>
    [
        new OccupancySample("o1", "s", "a", "c", T0, 10, 9, 20, 1, 0.9, "show"),
        new SeatStateChange("s1", "s", "a", "c", "F12", T0, SeatState.Occupied, 0.9),
        new AnomalyEvent("a1", "i1", IncidentPhase.Start, AnomalyKind.AisleStanding, "s", "a", "c", T0, T0, "aisle", null, 1, 0.9),
        new PiracySuspicion("p1", "i2", IncidentPhase.Start, RecordingDevice.Phone, "s", "a", "c", "F12", T0, T0, 21, 0.8, "i2.jpg"),
        new CameraHealthEvent("h1", "i3", IncidentPhase.End, CameraHealthKind.Frozen, "s", "a", "c", T0, T0, 12, 10),
        new AgentHealth("g1", "agent", "s", T0, "1.0", [new CameraStatus("c", "a", true, 1.2, 100, 50, 0, 80)], 3, 40, 1000, UploadLagSeconds: 2.5),
    ];

    [Fact]
    public void Batch_OneTypedList_RoundTripsEveryType()
    {
        var batch = new IngestBatch("b1", "agent", T0, OneOfEach());

        var json = JsonSerializer.Serialize(batch, IngestJson.Options);
        var back = JsonSerializer.Deserialize<IngestBatch>(json, IngestJson.Options)!;

        using var doc = JsonDocument.Parse(json);
        Assert.Equal(["occupancy", "seat", "anomaly", "piracy", "cameraHealth", "agentHealth"], doc.RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("type").GetString()));
        Assert.False(doc.RootElement.TryGetProperty("itemCount", out _));
        Assert.Equal(batch.Events.Select(e => e.GetType()), back.Events.Select(e => e.GetType()));
        Assert.Equal(batch.Events.Take(5), back.Events.Take(5));
        Assert.Equal(2.5, back.Of<AgentHealth>()[0].UploadLagSeconds);
    }

    [Fact]
    public void Event_TypeAnywhereInTheObject_Read()
    {
        var e = IngestJson.Deserialize("""{"id":"o1","siteId":"s","auditoriumId":"a","timestamp":"2026-11-24T20:00:00Z","people":1,"seatsOccupied":1,"seatsTotal":2,"seatsUnknown":0,"confidence":1,"type":"occupancy"}""");
        Assert.Equal("o1", Assert.IsType<OccupancySample>(e).Id);
    }

    [Fact]
    public void Event_WithoutOrWithUnknownType_ClearError()
    {
        var missing = Assert.Throws<JsonException>(() => IngestJson.Deserialize("""{"id":"x"}"""));
        Assert.Contains("\"type\"", missing.Message, StringComparison.Ordinal);
        Assert.Throws<JsonException>(() => IngestJson.Deserialize("""{"type":"weather","id":"x"}"""));
    }

    [Fact]
    public void OutboxRow_SerializeDeserialize_SameEvent()
    {
        foreach (var e in OneOfEach().Take(5)) Assert.Equal(e, IngestJson.Deserialize(IngestJson.Serialize(e)));
    }
}

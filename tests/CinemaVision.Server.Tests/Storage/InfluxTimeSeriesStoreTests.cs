using CinemaVision.Core.Events;
using CinemaVision.Server.Configuration;
using CinemaVision.Server.Storage.TimeSeries;
using CinemaVision.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace CinemaVision.Server.Tests.Storage;

[Collection(InfluxCollection.Name)]
public sealed class InfluxTimeSeriesStoreTests : TimeSeriesStoreContract, IDisposable
{
    private readonly InfluxTimeSeriesStore _store;

    public InfluxTimeSeriesStoreTests(InfluxServerFixture influx)
    {
        _store = Create(influx.Url.ToString(), "cinemavision_contract");
    }

    protected override ITimeSeriesStore Store => _store;

    public void Dispose() => _store.Dispose();

    internal static InfluxTimeSeriesStore Create(string url, string database, int maxRetries = 2) =>
        new(new TimeSeriesOptions { Provider = TimeSeriesProvider.Influx, Influx = new InfluxOptions { Url = url, Database = database, MaxRetries = maxRetries, TimeoutSeconds = 10 } }, new HttpClient(), NullLogger<InfluxTimeSeriesStore>.Instance);

    [Fact]
    public async Task WriteAsync_ServerUnreachable_ThrowsNamingTheServer()
    {
        var port = InfluxServerFixture.FreePort();
        using var store = Create($"http://127.0.0.1:{port}", "nowhere", maxRetries: 1);

        var ex = await Assert.ThrowsAsync<TimeSeriesStoreException>(() => store.WriteAsync(Samples.Batch("edge", "b1", occupancy: [Samples.Occupancy("o1", "s", "a", Samples.RecentMinute(), 1)]), CancellationToken.None));

        Assert.Contains($"127.0.0.1:{port}", ex.Message);
        Assert.Contains("unreachable", ex.Message);
    }

    [Fact]
    public async Task WriteAsync_PointBeyondRetention_ThrowsWithServersReason()
    {
        var site = "site-" + Guid.NewGuid().ToString("N")[..8];
        var t0 = Samples.RecentMinute();
        await _store.WriteAsync(Samples.Batch("edge", "b1", occupancy: [Samples.Occupancy("o1", site, "aud-1", t0, 1)]), CancellationToken.None);

        // A point thirty years old lies beyond the retention policy: the server refuses it and says why.
        var ex = await Assert.ThrowsAsync<TimeSeriesStoreException>(() => _store.WriteAsync(
            Samples.Batch("edge", "b2", seats: [new SeatStateChange("s1", site, "aud-1", "cam-1", "A1", t0.AddYears(-30), SeatState.Occupied, 1, null)]),
            CancellationToken.None));

        Assert.Contains("rejected the points", ex.Message);
        Assert.Contains("retention", ex.Message);
    }
}

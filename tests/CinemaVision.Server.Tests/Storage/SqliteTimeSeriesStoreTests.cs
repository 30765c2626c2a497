using CinemaVision.Server.Configuration;
using CinemaVision.Server.Storage.TimeSeries;

namespace CinemaVision.Server.Tests.Storage;

public sealed class SqliteTimeSeriesStoreTests : TimeSeriesStoreContract, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("cv-ts-").FullName;
    private readonly SqliteTimeSeriesStore _store;

    public SqliteTimeSeriesStoreTests()
    {
        _store = new SqliteTimeSeriesStore(Path.Combine(_folder, "timeseries.db"), new TimeSeriesOptions());
    }

    protected override ITimeSeriesStore Store => _store;

    public void Dispose()
    {
        _store.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }
}

using CinemaVision.Server.Configuration;

namespace CinemaVision.Server.Tests.Ingest;

public sealed class ServerOptionsValidatorTests
{
    [Fact]
    public void Validate_SeveralBadKeys_NamesEveryKeyAtOnce()
    {
        var options = new ServerOptions
        {
            Ingest = new IngestOptions { MaxItemsPerBatch = 0, MaxConcurrentBatches = 0 },
            TimeSeries = new TimeSeriesOptions { Provider = TimeSeriesProvider.Influx, RawRetentionDays = 30, RollupRetentionDays = 7, Influx = new InfluxOptions { Url = "influx:8086" } },
        };

        var result = new ServerOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failures = string.Join('\n', result.Failures!);
        Assert.Contains("CinemaVision:Ingest:MaxItemsPerBatch", failures);
        Assert.Contains("CinemaVision:Ingest:MaxConcurrentBatches", failures);
        Assert.Contains("CinemaVision:TimeSeries:RollupRetentionDays", failures);
        Assert.Contains("CinemaVision:TimeSeries:Influx:Url", failures);
    }

    [Fact]
    public void Validate_Defaults_Succeeds()
    {
        Assert.True(new ServerOptionsValidator().Validate(null, new ServerOptions()).Succeeded);
    }
}

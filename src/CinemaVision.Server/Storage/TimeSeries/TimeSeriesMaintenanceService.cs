using CinemaVision.Server.Configuration;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Storage.TimeSeries;

/// <summary>Builds 1-minute rollups and applies retention on a timer.</summary>
public sealed partial class TimeSeriesMaintenanceService : BackgroundService
{
    private readonly ITimeSeriesStore _store;
    private readonly IOptions<ServerOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<TimeSeriesMaintenanceService> _logger;

    public TimeSeriesMaintenanceService(ITimeSeriesStore store, IOptions<ServerOptions> options, TimeProvider time, ILogger<TimeSeriesMaintenanceService> logger)
    {
        _store = store;
        _options = options;
        _time = time;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.Value.TimeSeries.MaintenanceIntervalSeconds), _time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await _store.RunMaintenanceAsync(_time.GetUtcNow(), stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                MaintenanceFailed(_logger, ex);
            }
        }
    }

    [LoggerMessage(EventId = 3001, EventName = "MaintenanceFailed", Level = LogLevel.Error, Message = "Time-series rollup/retention failed; retried at the next interval")]
    private static partial void MaintenanceFailed(ILogger logger, Exception exception);
}

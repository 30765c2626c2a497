using System.Globalization;
using System.Net;
using System.Text.Json;
using CinemaVision.Core.Cameras;
using CinemaVision.Edge.Configuration;
using CinemaVision.Edge.Upload;
using CinemaVision.Vision.Auditoriums;

namespace CinemaVision.Edge.Analysis;

/// <summary>One stored empty-hall reference of a camera: its lighting mode and JPEG file.</summary>
public sealed record StoredReference(LightingMode Mode, string Path);

/// <summary>
/// The cameras' empty-hall reference pictures (one per lighting mode), kept at the centre so a replaced agent or a
/// rebuilt pipeline starts with them. A reference the pipeline captured (<see cref="CameraAnalysis.EmptyReference"/>)
/// is written to <c>DATA/references/AUDITORIUM/CAMERA/MODE.jpg</c> with a marker and uploaded to
/// <c>PUT /api/v1/sites/{site}/auditoriums/{aud}/cameras/{cam}/reference/{mode}</c> until the centre has it (retried
/// with backoff; a 4xx other than 408/429 is permanent: logged, the picture stays in use here). At start, and on every
/// configuration poll until it succeeds, the references stored at the centre are pulled (list, then each picture with
/// its ETag) and handed to the cameras (<see cref="Version"/> changes, the camera applies <see cref="For"/>).
/// </summary>
public sealed partial class ReferenceService : BackgroundService
{
    private readonly AgentOptions _options;
    private readonly CentreClient _centre;
    private readonly SiteConfigService _config;
    private readonly TimeProvider _time;
    private readonly ILogger<ReferenceService> _logger;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly Dictionary<string, long> _versions = new(StringComparer.Ordinal);
    private int _failures;
    private bool _pulled;

    public ReferenceService(AgentOptions options, CentreClient centre, SiteConfigService config, TimeProvider time, ILogger<ReferenceService> logger)
    {
        _options = options;
        _centre = centre;
        _config = config;
        _time = time;
        _logger = logger;
        Directory.CreateDirectory(Root);
    }

    private string Root => Path.Combine(_options.DataDirectory, "references");

    private string DirOf(string auditoriumId, string cameraId) => Path.Combine(Root, auditoriumId, cameraId);

    /// <summary>Changes when references pulled from the centre arrived for the camera (it applies them again).</summary>
    public long Version(string auditoriumId, string cameraId)
    {
        lock (_versions) return _versions.GetValueOrDefault(auditoriumId + "/" + cameraId);
    }

    /// <summary>The camera's stored references (every mode it has).</summary>
    public IReadOnlyList<StoredReference> For(string auditoriumId, string cameraId)
    {
        var dir = DirOf(auditoriumId, cameraId);
        if (!Directory.Exists(dir)) return [];
        return [.. Directory.EnumerateFiles(dir, "*.jpg")
            .Select(f => LightingClassifier.TryParse(Path.GetFileNameWithoutExtension(f), out var m) ? new StoredReference(m, f) : null)
            .OfType<StoredReference>()
            .OrderBy(r => r.Mode)];
    }

    /// <summary>A reference the camera's pipeline captured (already applied there): kept and queued for upload.</summary>
    public void Captured(string auditoriumId, string cameraId, CapturedReference reference)
    {
        var dir = DirOf(auditoriumId, cameraId);
        Directory.CreateDirectory(dir);
        var mode = LightingClassifier.Name(reference.Mode);
        Write(Path.Combine(dir, mode + ".jpg"), reference.Jpeg);
        Write(Path.Combine(dir, mode + ".pending"), []);
        File.Delete(Path.Combine(dir, mode + ".etag"));
        LogCaptured(_logger, cameraId, auditoriumId, mode);
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await _config.Ready.WaitAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = _options.ConfigPollEvery;
            try
            {
                if (_config.Current?.SiteId is { Length: > 0 } site)
                {
                    if (!_pulled)
                    {
                        await PullAsync(site, stoppingToken);
                        _pulled = true;
                    }

                    if (await UploadAsync(site, stoppingToken) is { } backoff) wait = backoff;
                    else _failures = 0;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException or CentreException or JsonException)
            {
                _failures++;
                wait = UploadBackoff.Delay(_failures, Random.Shared.NextDouble());
                LogFailed(_logger, ex.Message, wait.TotalSeconds);
            }

            try
            {
                await _wake.WaitAsync(wait, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Pulls the centre's references of every camera (ETag: unchanged pictures are not fetched again).</summary>
    public async Task PullAsync(string siteId, CancellationToken cancellationToken)
    {
        foreach (var camera in _options.Cameras)
        {
            var dir = DirOf(camera.AuditoriumId, camera.Id);
            var basePath = $"/api/v1/sites/{Uri.EscapeDataString(siteId)}/auditoriums/{Uri.EscapeDataString(camera.AuditoriumId)}/cameras/{Uri.EscapeDataString(camera.Id)}/reference";
            var list = await _centre.GetWithETagAsync(basePath, null, cancellationToken);
            using var doc = JsonDocument.Parse(list.Body ?? "[]");
            bool changed = false;
            foreach (var item in doc.RootElement.EnumerateArray())
            {
                var mode = item.GetProperty("mode").GetString() ?? "";
                if (!LightingClassifier.TryParse(mode, out _)) continue;
                var etagFile = Path.Combine(dir, mode + ".etag");
                // A local capture not yet uploaded is newer than the centre's copy.
                if (File.Exists(Path.Combine(dir, mode + ".pending"))) continue;
                var known = File.Exists(etagFile) && File.Exists(Path.Combine(dir, mode + ".jpg")) ? File.ReadAllText(etagFile) : null;
                var (status, etag, bytes) = await _centre.GetBytesAsync($"{basePath}/{Uri.EscapeDataString(mode)}", known, cancellationToken);
                if (status != HttpStatusCode.OK || bytes is null) continue;
                Directory.CreateDirectory(dir);
                Write(Path.Combine(dir, mode + ".jpg"), bytes);
                if (etag is not null) Write(etagFile, System.Text.Encoding.UTF8.GetBytes(etag));
                LogPulled(_logger, camera.Id, camera.AuditoriumId, mode, bytes.Length);
                changed = true;
            }

            if (changed)
            {
                lock (_versions) _versions[camera.AuditoriumId + "/" + camera.Id] = _versions.GetValueOrDefault(camera.AuditoriumId + "/" + camera.Id) + 1;
            }
        }
    }

    /// <summary>Uploads captured references; null when done, else how long to back off.</summary>
    public async Task<TimeSpan?> UploadAsync(string siteId, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(Root)) return null;
        foreach (var marker in Directory.EnumerateFiles(Root, "*.pending", SearchOption.AllDirectories).ToList())
        {
            var dir = Path.GetDirectoryName(marker)!;
            var mode = Path.GetFileNameWithoutExtension(marker);
            var cameraId = Path.GetFileName(dir);
            var auditoriumId = Path.GetFileName(Path.GetDirectoryName(dir)!);
            var image = Path.Combine(dir, mode + ".jpg");
            if (!File.Exists(image))
            {
                File.Delete(marker);
                continue;
            }

            var path = $"/api/v1/sites/{Uri.EscapeDataString(siteId)}/auditoriums/{Uri.EscapeDataString(auditoriumId)}/cameras/{Uri.EscapeDataString(cameraId)}/reference/{Uri.EscapeDataString(mode)}";
            var answer = await _centre.PutJpegAsync(path, await File.ReadAllBytesAsync(image, cancellationToken), cancellationToken);
            if (answer.IsSuccess)
            {
                File.Delete(marker);
                LogUploaded(_logger, cameraId, auditoriumId, mode);
                continue;
            }

            if ((int)answer.Status is >= 400 and < 500 && answer.Status is not (HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout))
            {
                LogRefused(_logger, cameraId, auditoriumId, mode, (int)answer.Status, answer.Problem ?? "");
                File.Delete(marker);
                continue;
            }

            _failures++;
            var wait = UploadBackoff.Delay(_failures, Random.Shared.NextDouble(), answer.RetryAfter);
            LogFailed(_logger, string.Create(CultureInfo.InvariantCulture, $"reference {auditoriumId}/{cameraId}/{mode}: HTTP {(int)answer.Status} {answer.Problem}"), wait.TotalSeconds);
            return wait;
        }

        return null;
    }

    private static void Write(string path, byte[] bytes)
    {
        var temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(bytes);
            file.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    [LoggerMessage(EventId = 9201, Level = LogLevel.Information, Message = "Camera {CameraId} of auditorium {AuditoriumId}: empty-hall reference ({Mode}) captured; uploading it to the centre")]
    private static partial void LogCaptured(ILogger logger, string cameraId, string auditoriumId, string mode);

    [LoggerMessage(EventId = 9202, Level = LogLevel.Information, Message = "Camera {CameraId} of auditorium {AuditoriumId}: empty-hall reference ({Mode}) stored at the centre")]
    private static partial void LogUploaded(ILogger logger, string cameraId, string auditoriumId, string mode);

    [LoggerMessage(EventId = 9203, Level = LogLevel.Information, Message = "Camera {CameraId} of auditorium {AuditoriumId}: empty-hall reference ({Mode}, {Bytes} bytes) pulled from the centre")]
    private static partial void LogPulled(ILogger logger, string cameraId, string auditoriumId, string mode, int bytes);

    [LoggerMessage(EventId = 9204, Level = LogLevel.Warning, Message = "Empty-hall references: {Reason}; retrying in {Seconds:0.0} s")]
    private static partial void LogFailed(ILogger logger, string reason, double seconds);

    [LoggerMessage(EventId = 9205, Level = LogLevel.Error, Message = "The centre refused the empty-hall reference of camera {CameraId} of auditorium {AuditoriumId} ({Mode}; HTTP {Status}: {Problem}); it stays in use here, not retried")]
    private static partial void LogRefused(ILogger logger, string cameraId, string auditoriumId, string mode, int status, string problem);
}

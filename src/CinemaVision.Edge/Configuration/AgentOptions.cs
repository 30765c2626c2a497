using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Cameras;

namespace CinemaVision.Edge.Configuration;

/// <summary>Whether a camera's main stream is read keyframes-only between occupancy passes.</summary>
public enum KeyframesOnly
{
    /// <summary>Keyframes-only when the camera names a substream for watching (the main stream is then needed only every occupancy period).</summary>
    Auto = 0,
    Always = 1,
    Never = 2,
}

/// <summary>One camera the agent reads: its streams and the auditorium camera (seat map) it is.</summary>
public sealed record AgentCamera
{
    /// <summary>The camera's id in its auditorium file (cameras[].id), which gives its seat map and zones.</summary>
    public required string Id { get; init; }

    public required string AuditoriumId { get; init; }

    /// <summary>The main stream (full resolution): occupancy passes.</summary>
    public required string Url { get; init; }

    /// <summary>A low-resolution substream for the watching passes (as NVRs do), or null to watch on the main stream.</summary>
    public string? SubstreamUrl { get; init; }

    public KeyframesOnly KeyframesOnly { get; init; } = KeyframesOnly.Auto;

    /// <summary>Files only: start again at the end (demos and tests).</summary>
    public bool Loop { get; init; }

    /// <summary>Files only: read at the file's frame rate, as a live camera delivers (demos and tests).</summary>
    public bool RealTime { get; init; }

    /// <summary>True when the main stream is read keyframes-only.</summary>
    public bool MainKeyframesOnly => KeyframesOnly == KeyframesOnly.Always || (KeyframesOnly == KeyframesOnly.Auto && SubstreamUrl is not null);
}

/// <summary>Where the agent finds its models (defaults: the repository's models/models.json and the verified asset cache).</summary>
public sealed record ModelLocation(string? Manifest = null, string? Directory = null);

/// <summary>The durable outbox's limits.</summary>
public sealed record OutboxLimits
{
    /// <summary>Disk the outbox may use. When full, the oldest occupancy samples and heartbeats go first, never incidents.</summary>
    public long MaxBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>Events per upload request.</summary>
    public int BatchSize { get; init; } = 200;

    /// <summary>Sent events are kept this long (counts at both ends, diagnosis), then removed.</summary>
    public TimeSpan SentRetention { get; init; } = TimeSpan.FromHours(24);
}

/// <summary>
/// The agent's small local configuration file: where the centre is, who the agent is, its key, its cameras and its
/// CPU budget. Everything else (auditoriums, seat maps, zones, rules, schedule) is pulled from the centre. Read and
/// validated at start with every problem named (<see cref="Load"/>).
/// </summary>
public sealed record AgentOptions
{
    public required Uri CentralUrl { get; init; }

    public required string AgentId { get; init; }

    /// <summary>File holding the agent's API key; must be readable by the agent's user only.</summary>
    public required string KeyFile { get; init; }

    /// <summary>Outbox, configuration cache and evidence waiting to be sent.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Cores the agent (analysis and decoding) may use.</summary>
    public double CpuBudget { get; init; } = Math.Max(1, Environment.ProcessorCount - 0.5);

    /// <summary>Local address of /healthz and /metrics.</summary>
    public IPEndPoint Listen { get; init; } = new(IPAddress.Loopback, 9310);

    public TimeSpan HeartbeatEvery { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan ConfigPollEvery { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a graceful shutdown may spend sending what is left.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public OutboxLimits Outbox { get; init; } = new();
    public ModelLocation Models { get; init; } = new();
    public IReadOnlyList<AgentCamera> Cameras { get; init; } = [];

    /// <summary>
    /// The SHA-256 (64 hex digits) of the centre's TLS certificate (the centre writes it to DATA/tls/certificate.sha256):
    /// when set, the agent accepts that certificate only, even if no certificate authority vouches for it. Null: the
    /// system's trust store decides.
    /// </summary>
    public string? CentralCertificateSha256 { get; init; }

    /// <summary>The API key (read from <see cref="KeyFile"/> at start).</summary>
    public string ApiKey { get; init; } = "";

    private static readonly string[] TopKeys = ["centralUrl", "centralCertificateSha256", "agentId", "keyFile", "dataDirectory", "cpuBudget", "listen", "heartbeatSeconds", "configPollSeconds", "drainSeconds", "outbox", "models", "cameras"];
    private static readonly string[] CameraKeys = ["id", "auditoriumId", "url", "substreamUrl", "keyframesOnly", "loop", "realTime"];
    private static readonly string[] OutboxKeys = ["maxMegabytes", "batchSize", "sentRetentionHours"];
    private static readonly string[] ModelKeys = ["manifest", "directory"];

    /// <summary>Reads and checks the file; relative paths are relative to the file's folder.</summary>
    public static (AgentOptions? Options, IReadOnlyList<ConfigProblem> Problems) Load(string path)
    {
        if (!File.Exists(path)) return (null, [new ConfigProblem(path, "the configuration file does not exist (give it with --config FILE or CINEMAVISION_AGENT_CONFIG)")]);
        return Parse(File.ReadAllText(path), Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    public static (AgentOptions? Options, IReadOnlyList<ConfigProblem> Problems) Parse(string json, string baseDirectory)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            return (null, [new ConfigProblem("$", $"not valid JSON at line {(ex.LineNumber ?? 0) + 1}, position {(ex.BytePositionInLine ?? 0) + 1}")]);
        }

        if (root is not JsonObject obj) return (null, [new ConfigProblem("$", "the file must hold a JSON object")]);
        var problems = new List<ConfigProblem>();
        Unknown(obj, "", TopKeys, problems);

        Uri? central = null;
        if (Text(obj, "centralUrl", "", problems, required: true) is { } url)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out central) || central.Scheme is not ("http" or "https")) problems.Add(new("centralUrl", $"'{url}' is not an http(s) URL such as http://10.0.0.2:8080"));
        }

        string? pin = null;
        if (Text(obj, "centralCertificateSha256", "", problems) is { } p)
        {
            pin = p.Replace(":", "", StringComparison.Ordinal).ToLowerInvariant();
            if (pin.Length != 64 || !pin.All(char.IsAsciiHexDigit)) problems.Add(new("centralCertificateSha256", "must be the 64 hex digits of the centre's certificate SHA-256 (the centre's DATA/tls/certificate.sha256)"));
            else if (central is not null && central.Scheme != "https") problems.Add(new("centralCertificateSha256", $"pins a TLS certificate, but centralUrl '{central}' is not https"));
        }

        var agentId = Text(obj, "agentId", "", problems, required: true);
        if (agentId is not null && !IsId(agentId)) problems.Add(new("agentId", $"'{agentId}' must be 1-128 letters, digits, '.', '_' or '-'"));

        string? apiKey = null;
        var keyFile = Text(obj, "keyFile", "", problems, required: true) is { } k ? Path.GetFullPath(Path.Combine(baseDirectory, k)) : null;
        if (keyFile is not null) apiKey = ReadKey(keyFile, problems);

        var data = Text(obj, "dataDirectory", "", problems, required: true) is { } d ? Path.GetFullPath(Path.Combine(baseDirectory, d)) : null;
        if (data is not null)
        {
            try
            {
                Directory.CreateDirectory(data);
                var probe = Path.Combine(data, ".write-test");
                File.WriteAllText(probe, "");
                File.Delete(probe);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                problems.Add(new("dataDirectory", $"{data} cannot be created or written: {ex.Message}"));
            }
        }

        double cpu = Number(obj, "cpuBudget", "", problems, Math.Max(1, Environment.ProcessorCount - 0.5), 0.1, 256);
        var listen = new IPEndPoint(IPAddress.Loopback, 9310);
        if (Text(obj, "listen", "", problems) is { } l && !IPEndPoint.TryParse(l, out listen!))
        {
            problems.Add(new("listen", $"'{l}' is not host:port such as 127.0.0.1:9310"));
            listen = new IPEndPoint(IPAddress.Loopback, 9310);
        }

        var heartbeat = TimeSpan.FromSeconds(Number(obj, "heartbeatSeconds", "", problems, 30, 1, 3600));
        var poll = TimeSpan.FromSeconds(Number(obj, "configPollSeconds", "", problems, 30, 1, 3600));
        var drain = TimeSpan.FromSeconds(Number(obj, "drainSeconds", "", problems, 10, 0, 600));

        var outbox = new OutboxLimits();
        if (obj["outbox"] is JsonObject o)
        {
            Unknown(o, "outbox.", OutboxKeys, problems);
            outbox = new OutboxLimits
            {
                MaxBytes = (long)(Number(o, "maxMegabytes", "outbox.", problems, 512, 1, 1024 * 1024) * 1024 * 1024),
                BatchSize = (int)Number(o, "batchSize", "outbox.", problems, 200, 1, 5000),
                SentRetention = TimeSpan.FromHours(Number(o, "sentRetentionHours", "outbox.", problems, 24, 0, 24 * 365)),
            };
        }
        else if (obj["outbox"] is not null)
        {
            problems.Add(new("outbox", "must be an object such as {\"maxMegabytes\": 512}"));
        }

        var models = new ModelLocation();
        if (obj["models"] is JsonObject m)
        {
            Unknown(m, "models.", ModelKeys, problems);
            var manifest = Text(m, "manifest", "models.", problems) is { } mf ? Path.GetFullPath(Path.Combine(baseDirectory, mf)) : null;
            var dir = Text(m, "directory", "models.", problems) is { } md ? Path.GetFullPath(Path.Combine(baseDirectory, md)) : null;
            if (manifest is not null && !File.Exists(manifest)) problems.Add(new("models.manifest", $"{manifest} does not exist"));
            if (dir is not null && !System.IO.Directory.Exists(dir)) problems.Add(new("models.directory", $"{dir} does not exist"));
            models = new ModelLocation(manifest, dir);
        }

        var cameras = new List<AgentCamera>();
        if (obj["cameras"] is JsonArray array)
        {
            if (array.Count == 0) problems.Add(new("cameras", "lists no camera"));
            for (int i = 0; i < array.Count; i++)
            {
                if (ReadCamera(array[i], $"cameras[{i}]", baseDirectory, problems) is { } cam) cameras.Add(cam);
            }

            foreach (var dup in cameras.GroupBy(c => (c.AuditoriumId, c.Id)).Where(g => g.Count() > 1))
            {
                problems.Add(new("cameras", $"camera '{dup.Key.Id}' of auditorium '{dup.Key.AuditoriumId}' is listed {dup.Count()} times"));
            }
        }
        else
        {
            problems.Add(new("cameras", "is required: an array of cameras ({\"id\", \"auditoriumId\", \"url\"})"));
        }

        if (problems.Count > 0) return (null, problems);
        return (new AgentOptions
        {
            CentralUrl = central!,
            CentralCertificateSha256 = pin,
            AgentId = agentId!,
            KeyFile = keyFile!,
            ApiKey = apiKey!,
            DataDirectory = data!,
            CpuBudget = cpu,
            Listen = listen,
            HeartbeatEvery = heartbeat,
            ConfigPollEvery = poll,
            DrainTimeout = drain,
            Outbox = outbox,
            Models = models,
            Cameras = cameras,
        }, problems);
    }

    private static AgentCamera? ReadCamera(JsonNode? node, string path, string baseDirectory, List<ConfigProblem> problems)
    {
        if (node is not JsonObject c)
        {
            problems.Add(new(path, "must be an object such as {\"id\": \"cam-1\", \"auditoriumId\": \"aud-1\", \"url\": \"rtsp://...\"}"));
            return null;
        }

        int before = problems.Count;
        Unknown(c, path + ".", CameraKeys, problems);
        var id = Text(c, "id", path + ".", problems, required: true);
        if (id is not null && !IsId(id)) problems.Add(new($"{path}.id", $"'{id}' must be 1-128 letters, digits, '.', '_' or '-'"));
        var auditorium = Text(c, "auditoriumId", path + ".", problems, required: true);
        if (auditorium is not null && !IsId(auditorium)) problems.Add(new($"{path}.auditoriumId", $"'{auditorium}' must be 1-128 letters, digits, '.', '_' or '-'"));
        var url = Text(c, "url", path + ".", problems, required: true);
        var sub = Text(c, "substreamUrl", path + ".", problems);
        var keyframes = KeyframesOnly.Auto;
        if (Text(c, "keyframesOnly", path + ".", problems) is { } kf && !Enum.TryParse(kf, ignoreCase: true, out keyframes))
        {
            problems.Add(new($"{path}.keyframesOnly", $"'{kf}' must be auto, always or never"));
        }

        bool loop = Flag(c, "loop", path + ".", problems);
        bool realTime = Flag(c, "realTime", path + ".", problems);
        string? Resolve(string? u) => u is null || u.Contains("://", StringComparison.Ordinal) || u.StartsWith("/dev/", StringComparison.Ordinal) ? u : Path.GetFullPath(Path.Combine(baseDirectory, u));
        url = Resolve(url);
        sub = Resolve(sub);
        foreach (var (field, value) in new[] { ("url", url), ("substreamUrl", sub) })
        {
            if (value is null) continue;
            foreach (var p in new CameraSource { CameraId = id ?? "?", Url = value }.Validate()) problems.Add(new($"{path}.{field}", p[(p.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()));
            if (CameraSource.Infer(value) == CameraSourceKind.File && !File.Exists(value)) problems.Add(new($"{path}.{field}", $"the file {value} does not exist"));
        }

        return problems.Count > before ? null : new AgentCamera { Id = id!, AuditoriumId = auditorium!, Url = url!, SubstreamUrl = sub, KeyframesOnly = keyframes, Loop = loop, RealTime = realTime };
    }

    /// <summary>The key must exist, be non-empty and be readable by the agent's user only (it is a credential).</summary>
    private static string? ReadKey(string keyFile, List<ConfigProblem> problems)
    {
        if (!File.Exists(keyFile))
        {
            problems.Add(new("keyFile", $"{keyFile} does not exist (write the agent's API key there, readable by the agent's user only)"));
            return null;
        }

        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(keyFile);
            const UnixFileMode Others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
            if ((mode & Others) != 0)
            {
                problems.Add(new("keyFile", string.Create(CultureInfo.InvariantCulture, $"{keyFile} can be read by other users (mode {Convert.ToString((int)mode, 8)}); run 'chmod 600 {keyFile}'")));
                return null;
            }
        }

        try
        {
            var key = File.ReadAllText(keyFile).Trim();
            if (key.Length == 0) problems.Add(new("keyFile", $"{keyFile} is empty"));
            else if (key.Any(char.IsWhiteSpace) || key.Any(char.IsControl)) problems.Add(new("keyFile", $"{keyFile} must hold the key alone on one line"));
            return key;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problems.Add(new("keyFile", $"{keyFile} cannot be read: {ex.Message}"));
            return null;
        }
    }

    private static bool IsId(string s) => s.Length is > 0 and <= 128 && s.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '.' or '_' or '-');

    private static void Unknown(JsonObject obj, string prefix, string[] known, List<ConfigProblem> problems)
    {
        foreach (var (key, _) in obj)
        {
            if (!known.Contains(key, StringComparer.Ordinal) && !key.StartsWith('$')) problems.Add(new(prefix + key, $"unknown key (known: {string.Join(", ", known)})"));
        }
    }

    private static string? Text(JsonObject obj, string name, string prefix, List<ConfigProblem> problems, bool required = false)
    {
        var node = obj[name];
        if (node is null)
        {
            if (required) problems.Add(new(prefix + name, "is required"));
            return null;
        }

        if (node is JsonValue v && v.TryGetValue<string>(out var s) && !string.IsNullOrWhiteSpace(s)) return s.Trim();
        problems.Add(new(prefix + name, "must be a non-empty string"));
        return null;
    }

    private static double Number(JsonObject obj, string name, string prefix, List<ConfigProblem> problems, double fallback, double min, double max)
    {
        var node = obj[name];
        if (node is null) return fallback;
        if (node is JsonValue v && v.TryGetValue<double>(out var d) && double.IsFinite(d))
        {
            if (d >= min && d <= max) return d;
            problems.Add(new(prefix + name, FormattableString.Invariant($"must be within {min}..{max} (was {d})")));
            return fallback;
        }

        problems.Add(new(prefix + name, "must be a number"));
        return fallback;
    }

    private static bool Flag(JsonObject obj, string name, string prefix, List<ConfigProblem> problems)
    {
        var node = obj[name];
        if (node is null) return false;
        if (node is JsonValue v && v.TryGetValue<bool>(out var b)) return b;
        problems.Add(new(prefix + name, "must be true or false"));
        return false;
    }
}

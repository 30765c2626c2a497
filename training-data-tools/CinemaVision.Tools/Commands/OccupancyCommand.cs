using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Events;
using CinemaVision.Core.Pipeline;
using CinemaVision.Core.Showings;
using CinemaVision.Vision.Auditoriums;
using CinemaVision.Vision.Detectors;
using OpenCvSharp;

namespace CinemaVision.Tools.Commands;

/// <summary>
/// <c>cvtools occupancy</c>: an installer's check of a seat map. Runs detection with the auditorium's seat map and
/// zones over an image (analysed as a still camera) or a video, and prints per-seat states, the count and the
/// events raised, through the same <see cref="CameraPipeline"/> the edge agent runs (every frame is an occupancy pass).
/// Without <c>--auditorium</c> it counts people only (seat fields 0), so an installer can try a camera before drawing
/// its seat map.
/// JSON keys: people, seats_total, seats_occupied, seats_unknown, confidence, seats (id -> state), events (incidents
/// as on the wire).
/// </summary>
internal static class OccupancyCommand
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) } };

    public static Command Create()
    {
        var input = new Option<string>("--input") { Description = "Image or video of the auditorium.", Required = true };
        var auditorium = new Option<string?>("--auditorium") { Description = "Auditorium file (schemas/auditorium.schema.json). Without it: people count only (seat fields 0), to try a camera before its seat map is drawn." };
        var camera = new Option<string?>("--camera") { Description = "Camera id in the auditorium file (default: the first)." };
        var json = new Option<string?>("--json") { Description = "Write the result as JSON." };
        var output = new Option<string?>("--out") { Description = "Draw seats, zones and people on the image (or last video frame) to this file." };
        var faces = new Option<bool>("--faces") { Description = "Fill seats from faces (camera at the screen end facing the audience)." };
        var state = new Option<string>("--state") { Description = "Showing state: trailers | feature | lightsup | cleaning | closed.", DefaultValueFactory = _ => "feature" };
        var fps = new Option<double>("--fps") { Description = "Analysis rate for video timestamps (frames per second of the input).", DefaultValueFactory = _ => 7 };
        var frames = new Option<int>("--frames") { Description = "Analyse at most N video frames.", DefaultValueFactory = _ => int.MaxValue };
        var post = new Option<string?>("--post") { Description = "Send the occupancy samples, seat changes and events to a central service (base URL, e.g. http://127.0.0.1:8080) with the agent key in CINEMAVISION_API_KEY and its id in CINEMAVISION_AGENT_ID." };
        var aisleSeconds = new Option<double?>("--aisle-seconds") { Description = "Seconds in an aisle before an incident (default 30)." };
        var startAt = new Option<DateTimeOffset?>("--start") { Description = "Time of the first frame, e.g. 2026-11-24T20:00:00Z (default: now); fixes the event ids for comparisons." };
        var audienceArgs = new AudienceArguments();
        var command = new Command("occupancy", "Check an auditorium's seat map on an image or video: per-seat states, the count, and the events raised (without --auditorium: the people count only).\n\nExamples:\n  cvtools occupancy --input hall.jpg --auditorium hall.auditorium.json --out seats.png\n  cvtools occupancy --input hall.mp4 --auditorium hall.auditorium.json --state feature --json occupancy.json\n  cvtools occupancy --input hall.jpg --empty empty-hall.jpg --setting scores.seatedHead=0.3")
        {
            input, auditorium, camera, json, output, faces, state, fps, frames, post, aisleSeconds, startAt,
        };
        audienceArgs.AddTo(command);
        command.SetAction(parse =>
        {
            Auditorium aud;
            if (parse.GetValue(auditorium) is { } auditoriumPath)
            {
                var read = AuditoriumFile.Parse(File.ReadAllText(auditoriumPath));
                if (!read.IsValid)
                {
                    Console.Error.WriteLine($"cvtools occupancy: {auditoriumPath} has {read.Problems.Count} problem(s):");
                    foreach (var p in read.Problems) Console.Error.WriteLine($"  {p}");
                    return 2;
                }

                aud = read.Auditorium!;
            }
            else
            {
                // No seat map yet: one camera that sees no seats; the picture is taken as seating, the count is people.
                aud = new Auditorium { SiteId = "trial", AuditoriumId = "trial", Cameras = [new CameraView { Id = "camera", Reference = new ReferenceFrame(0, 0) }] };
            }

            var cam = parse.GetValue(camera) is { } id ? aud.Cameras.FirstOrDefault(c => c.Id == id) ?? throw new ArgumentException($"--camera: no camera '{id}' in the auditorium (has {string.Join(", ", aud.Cameras.Select(c => c.Id))}).") : aud.Cameras[0];
            var showing = Enum.TryParse<ShowingState>(parse.GetValue(state), ignoreCase: true, out var s) ? s : throw new ArgumentException($"--state: unknown showing state '{parse.GetValue(state)}'.");
            // The auditorium file's pipeline section, as on the edge agent; --setting and the flags given here win over it.
            var defaults = audienceArgs.Pipeline(parse, aud.Pipeline.Apply());
            if (parse.GetValue(faces)) defaults = defaults with { SeatsFrom = ObjectClass.Face };
            if (parse.GetValue(aisleSeconds) is { } aisle)
            {
                defaults = defaults with { Anomalies = defaults.Anomalies with { Aisle = defaults.Anomalies.Aisle with { MinDuration = TimeSpan.FromSeconds(aisle), EndGrace = TimeSpan.FromSeconds(Math.Min(5, aisle)) } } };
            }

            using var analyzer = new CameraAnalyzer(aud with { Pipeline = PipelineSettings.Empty }, cam, new AnalyzerOptions { Audience = audienceArgs.Models(parse) }, defaults);
            if (parse.GetValue(audienceArgs.Empty) is { } emptyPath)
            {
                using var empty = Cv2.ImRead(emptyPath, ImreadModes.Color);
                if (empty.Empty()) throw new InvalidDataException($"Cannot decode the empty-hall picture {emptyPath}.");
                var statics = analyzer.SetEmptyReference(empty);
                Console.WriteLine($"empty-hall reference {emptyPath}: {statics.Count} static head-like object(s) will be ignored");
            }

            var start = parse.GetValue(startAt) ?? DateTimeOffset.UtcNow;
            var step = TimeSpan.FromSeconds(1 / Math.Max(0.1, parse.GetValue(fps)));
            CameraAnalysis? last = null;
            var events = new List<EdgeEvent>();
            var evidence = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            Mat? lastImage = null;
            try
            {
                var src = parse.GetValue(input)!;
                bool still = FrameInputs.IsImage(src);
                int n = 0;
                foreach (var (_, _, _, image) in FrameInputs.Read(src, parse.GetValue(frames)))
                {
                    // A still image is analysed as a camera that keeps seeing the same scene, long enough for the seat smoothing to settle.
                    int repeats = still ? analyzer.Pipeline.Options.Smoothing.Window : 1;
                    for (int r = 0; r < repeats; r++)
                    {
                        // Every frame is a full occupancy pass, as the agent's occupancy passes are.
                        last = analyzer.Analyze(image, start + (step * n++), new ShowingContext(showing), PassKind.Occupancy);
                        events.AddRange(last.Events);
                        foreach (var (k, v) in last.Evidence) evidence[k] = v;
                    }

                    lastImage?.Dispose();
                    lastImage = image.Clone();
                }

                if (last is null) throw new InvalidDataException($"No frame could be read from {src}.");
                PrintSeats(cam, last);
                var incidents = events.Where(e => e is IIncidentEvent).ToList();
                Console.WriteLine($"people {last.People}, seats occupied {last.Occupancy.SeatsOccupied} of {last.Occupancy.SeatsTotal} (unknown {last.Occupancy.SeatsUnknown}), confidence {last.Occupancy.Confidence:0.00}, events {incidents.Count}");
                if (parse.GetValue(json) is { } jsonPath)
                {
                    var node = new JsonObject
                    {
                        ["people"] = last.People,
                        ["seats_total"] = last.Occupancy.SeatsTotal,
                        ["seats_occupied"] = last.Occupancy.SeatsOccupied,
                        ["seats_unknown"] = last.Occupancy.SeatsUnknown,
                        ["confidence"] = last.Occupancy.Confidence,
                        ["seats"] = new JsonObject(last.Seats.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => KeyValuePair.Create(k.Key, (JsonNode?)JsonValue.Create(k.Value.ToString().ToLowerInvariant())))),
                        ["events"] = JsonSerializer.SerializeToNode(incidents, IngestJson.Options),
                    };
                    File.WriteAllText(jsonPath, node.ToJsonString(Json));
                }

                if (parse.GetValue(post) is { } baseUrl)
                {
                    var key = Environment.GetEnvironmentVariable("CINEMAVISION_API_KEY") ?? throw new ArgumentException("--post needs the agent's API key in CINEMAVISION_API_KEY.");
                    var agentId = Environment.GetEnvironmentVariable("CINEMAVISION_AGENT_ID") ?? "cvtools";
                    var batch = new IngestBatch($"occupancy-{start.ToUnixTimeMilliseconds()}", agentId, DateTimeOffset.UtcNow, events);
                    PostAsync(baseUrl, key, batch, evidence).GetAwaiter().GetResult();
                    Console.WriteLine($"sent {batch.ItemCount} items and {evidence.Count} evidence snapshot(s) to {baseUrl}");
                }

                if (parse.GetValue(output) is { } outPath && lastImage is not null)
                {
                    Draw(lastImage, cam, last);
                    Cv2.ImWrite(outPath, lastImage);
                }

                return 0;
            }
            finally
            {
                lastImage?.Dispose();
            }
        });
        return command;
    }

    private static async Task PostAsync(string baseUrl, string key, IngestBatch batch, IReadOnlyDictionary<string, byte[]> evidence)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("X-Api-Key", key);
        foreach (var (id, jpeg) in evidence)
        {
            using var content = new ByteArrayContent(jpeg);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("image/jpeg");
            using var up = await http.PutAsync(new Uri($"/api/v1/evidence/{id}", UriKind.Relative), content).ConfigureAwait(false);
            if (!up.IsSuccessStatusCode) throw new IOException($"evidence {id}: HTTP {(int)up.StatusCode} {await up.Content.ReadAsStringAsync().ConfigureAwait(false)}");
        }

        using var body = new StringContent(JsonSerializer.Serialize(batch, IngestJson.Options), System.Text.Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(new Uri("/api/v1/ingest/batches", UriKind.Relative), body).ConfigureAwait(false);
        var answer = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) throw new IOException($"ingest: HTTP {(int)response.StatusCode} {answer}");
        IngestResult? receipt = null;
        try
        {
            receipt = answer.Length == 0 ? null : JsonSerializer.Deserialize<IngestResult>(answer, IngestJson.Options);
        }
        catch (JsonException)
        {
        }

        if (receipt?.Acknowledges(batch) != true)
        {
            throw new IOException($"ingest: HTTP {(int)response.StatusCode} without the centre's receipt for batch {batch.BatchId} ({(answer.Length > 200 ? answer[..200] : answer)}); is {baseUrl} the central service?");
        }
    }

    private static void PrintSeats(CameraView cam, CameraAnalysis analysis)
    {
        foreach (var row in cam.Seats.GroupBy(s => s.Row, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var marks = row.OrderBy(s => s.Number).Select(s => analysis.Seats[s.Id] switch { SeatState.Occupied => "#", SeatState.ObjectOnSeat => "o", SeatState.Empty => ".", _ => "?" });
            Console.WriteLine($"row {row.Key,-3} {string.Concat(marks)}");
        }
    }

    private static void Draw(Mat image, CameraView cam, CameraAnalysis analysis)
    {
        foreach (var z in cam.Zones)
        {
            Cv2.Polylines(image, [z.Polygon.Select(p => new Point(p.X, p.Y)).ToArray()], true, new Scalar(200, 120, 0), 1);
        }

        foreach (var seat in cam.Seats)
        {
            var color = analysis.Seats[seat.Id] switch { SeatState.Occupied => new Scalar(0, 200, 0), SeatState.ObjectOnSeat => new Scalar(0, 200, 255), SeatState.Empty => new Scalar(0, 0, 255), _ => new Scalar(128, 128, 128) };
            Cv2.Polylines(image, [seat.Polygon.Select(p => new Point(p.X, p.Y)).ToArray()], true, color, 2);
            Cv2.PutText(image, seat.Id, new Point(seat.Bounds.X + 2, seat.Bounds.Y + 12), HersheyFonts.HersheySimplex, 0.35, color, 1);
        }

        DetectCommand.Draw(image, analysis.Detections.Where(d => d.Score >= 0.5f));
    }
}

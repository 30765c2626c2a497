using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Cameras;
using CinemaVision.Core.Geometry;
using CinemaVision.Vision.Audience;
using CinemaVision.Vision.Auditoriums;
using OpenCvSharp;

namespace CinemaVision.Tools.Commands;

/// <summary>
/// <c>cvtools calibrate --empty IMAGE_OR_VIDEO</c>: makes a camera's empty-hall reference from a picture (or a clip:
/// the per-pixel median of its frames, so a passer-by disappears) of the empty auditorium; detects its lighting mode;
/// lists the head-like static objects the detector sees there (they will be ignored); and proposes masks for the text
/// burnt into the picture (the camera's clock and name). Writes the reference JPEG, and with --auditorium a copy of
/// the auditorium file with the proposed masks added; with --post, stores the reference at the centre.
/// JSON keys (--json): mode, reference, width, height, static_heads, masks.
/// </summary>
internal static class CalibrateCommand
{
    public static Command Create()
    {
        var empty = new Option<string>("--empty") { Description = "Picture or video of the empty hall.", Required = true };
        var auditorium = new Option<string?>("--auditorium") { Description = "Auditorium file: its camera's seats scope the check, and a copy with the proposed masks is written." };
        var camera = new Option<string?>("--camera") { Description = "Camera id in the auditorium file (default: the first)." };
        var outDir = new Option<string>("--out") { Description = "Folder for the reference JPEG (CAMERA-MODE.jpg) and the auditorium file with masks.", DefaultValueFactory = _ => "calibration" };
        var mode = new Option<string?>("--mode") { Description = "Lighting mode of the reference: lit | dim | infrared (default: detected)." };
        var frames = new Option<int>("--frames") { Description = "Video frames sampled for the median and the static-text check.", DefaultValueFactory = _ => 15 };
        var post = new Option<string?>("--post") { Description = "Store the reference at the centre (base URL), with the agent key in CINEMAVISION_API_KEY (needs --auditorium for the site, auditorium and camera ids)." };
        var json = new Option<string?>("--json") { Description = "Write the result as JSON." };
        var audienceArgs = new AudienceArguments();
        var command = new Command("calibrate", "Make a camera's empty-hall reference (--empty IMAGE_OR_VIDEO): lighting mode, static head-like objects, proposed masks for burnt-in text.\n\nExamples:\n  cvtools calibrate --empty empty-hall.jpg --auditorium hall.auditorium.json --out calibration\n  cvtools calibrate --empty empty-hall.mp4 --auditorium hall.auditorium.json --mode dim --post https://centre.example:8443")
        {
            empty, auditorium, camera, outDir, mode, frames, post, json,
        };
        command.Options.Add(audienceArgs.HeadModel);
        command.Options.Add(audienceArgs.Settings);
        command.SetAction(parse =>
        {
            var source = parse.GetValue(empty)!;
            Auditorium? aud = null;
            CameraView? view = null;
            if (parse.GetValue(auditorium) is { } path)
            {
                var read = AuditoriumFile.Parse(File.ReadAllText(path));
                if (!read.IsValid)
                {
                    Console.Error.WriteLine($"cvtools calibrate: {path} has {read.Problems.Count} problem(s):");
                    foreach (var p in read.Problems) Console.Error.WriteLine($"  {p}");
                    return 2;
                }

                aud = read.Auditorium!;
                view = parse.GetValue(camera) is { } id ? aud.Cameras.FirstOrDefault(c => c.Id == id) ?? throw new ArgumentException($"--camera: no camera '{id}' in the auditorium (has {string.Join(", ", aud.Cameras.Select(c => c.Id))}).") : aud.Cameras[0];
            }

            var samples = new List<Mat>();
            try
            {
                int step = FrameInputs.IsVideo(source) ? Math.Max(1, CountFrames(source) / Math.Max(1, parse.GetValue(frames))) : 1;
                foreach (var (_, _, _, image) in FrameInputs.Read(source, parse.GetValue(frames), step)) samples.Add(image.Clone());
                if (samples.Count == 0) throw new InvalidDataException($"No frame could be read from {source}.");
                using var reference = samples.Count == 1 ? samples[0].Clone() : Median(samples);
                LightingMode lighting;
                if (parse.GetValue(mode) is { } m)
                {
                    if (!LightingClassifier.TryParse(m, out lighting)) throw new ArgumentException($"--mode must be lit, dim or infrared (was '{m}').");
                }
                else
                {
                    lighting = LightingClassifier.Classify(LightingProbe.Measure(reference));
                }

                var cameraId = view?.Id ?? "camera";
                var auditoriumForAnalysis = aud ?? new Auditorium { SiteId = "trial", AuditoriumId = "trial", Cameras = [new CameraView { Id = cameraId, Reference = new ReferenceFrame(0, 0) }] };
                using var analyzer = new CameraAnalyzer(auditoriumForAnalysis, view ?? auditoriumForAnalysis.Cameras[0], new AnalyzerOptions { Audience = audienceArgs.Models(parse) }, audienceArgs.Pipeline(parse));
                var statics = analyzer.SetEmptyReference(reference, lighting);
                var text = StaticTextFinder.FindStatic(samples);

                var dir = parse.GetValue(outDir)!;
                Directory.CreateDirectory(dir);
                var name = LightingClassifier.Name(lighting);
                var referencePath = Path.Combine(dir, $"{cameraId}-{name}.jpg");
                Cv2.ImWrite(referencePath, reference, new ImageEncodingParam(ImwriteFlags.JpegQuality, 92));
                Console.WriteLine($"reference {referencePath}: {reference.Width}x{reference.Height}, lighting {name}, from {samples.Count} frame(s)");
                Console.WriteLine($"static head-like objects on the empty hall (ignored from now on): {statics.Count}");
                foreach (var b in statics.Take(20)) Console.WriteLine($"  {b}");
                Console.WriteLine($"proposed masks for burnt-in text: {text.Count}");
                foreach (var r in text) Console.WriteLine($"  {r}");

                if (aud is not null && view is not null)
                {
                    // The masks are proposed in the reference frame's pixels of the seat map.
                    float sx = view.Reference.Width > 0 ? (float)view.Reference.Width / reference.Width : 1, sy = view.Reference.Height > 0 ? (float)view.Reference.Height / reference.Height : 1;
                    var existing = view.Masks.ToList();
                    int next = existing.Count + 1;
                    foreach (var r in text)
                    {
                        var polygon = StaticTextFinder.Polygon(r).Select(p => new PointF(p.X * sx, p.Y * sy)).ToList();
                        if (existing.Any(e => Polygons.Bounds(e.Polygon).IntersectionOverSmaller(Polygons.Bounds(polygon)) > 0.5f)) continue;
                        existing.Add(new Mask($"text-{next++}", MaskKind.Text, polygon));
                    }

                    var updated = aud with { Cameras = [.. aud.Cameras.Select(c => c.Id == view.Id ? c with { Masks = existing } : c)] };
                    var auditoriumOut = Path.Combine(dir, Path.GetFileName(parse.GetValue(auditorium)!));
                    File.WriteAllText(auditoriumOut, AuditoriumFile.Serialize(updated));
                    Console.WriteLine($"auditorium file with the proposed masks: {auditoriumOut} (review them, then upload it)");
                }

                if (parse.GetValue(json) is { } jsonPath)
                {
                    var node = new JsonObject
                    {
                        ["mode"] = name,
                        ["reference"] = referencePath,
                        ["width"] = reference.Width,
                        ["height"] = reference.Height,
                        ["static_heads"] = new JsonArray([.. statics.Select(b => (JsonNode)new JsonArray(Math.Round(b.X, 1), Math.Round(b.Y, 1), Math.Round(b.Width, 1), Math.Round(b.Height, 1)))]),
                        ["masks"] = new JsonArray([.. text.Select(r => (JsonNode)new JsonArray(r.X, r.Y, r.Width, r.Height))]),
                    };
                    File.WriteAllText(jsonPath, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                }

                if (parse.GetValue(post) is { } baseUrl)
                {
                    if (aud is null || view is null) throw new ArgumentException("--post needs --auditorium (the site, auditorium and camera the reference belongs to).");
                    var key = Environment.GetEnvironmentVariable("CINEMAVISION_API_KEY") ?? throw new ArgumentException("--post needs the agent's API key in CINEMAVISION_API_KEY.");
                    PostAsync(baseUrl, key, $"/api/v1/sites/{aud.SiteId}/auditoriums/{aud.AuditoriumId}/cameras/{view.Id}/reference/{name}", File.ReadAllBytes(referencePath)).GetAwaiter().GetResult();
                    Console.WriteLine($"reference stored at {baseUrl} for {aud.SiteId}/{aud.AuditoriumId}/{view.Id} ({name})");
                }

                return 0;
            }
            finally
            {
                foreach (var s in samples) s.Dispose();
            }
        });
        return command;
    }

    private static int CountFrames(string video)
    {
        using var capture = new VideoCapture(video);
        return Math.Max(1, (int)capture.Get(VideoCaptureProperties.FrameCount));
    }

    /// <summary>The per-pixel median of several frames of a fixed camera: people passing through vanish.</summary>
    private static Mat Median(List<Mat> frames)
    {
        var first = frames[0];
        var same = frames.Where(f => f.Size() == first.Size() && f.Type() == first.Type()).ToList();
        int n = same.Count, total = first.Rows * first.Cols * first.Channels();
        var result = new Mat(first.Size(), first.Type());
        var buffers = same.Select(f =>
        {
            var bytes = new byte[total];
            using var continuous = f.Clone(); // a clone is continuous
            System.Runtime.InteropServices.Marshal.Copy(continuous.Data, bytes, 0, total);
            return bytes;
        }).ToList();
        var output = new byte[total];
        var values = new byte[n];
        for (int i = 0; i < total; i++)
        {
            for (int k = 0; k < n; k++) values[k] = buffers[k][i];
            Array.Sort(values);
            output[i] = values[n / 2];
        }

        System.Runtime.InteropServices.Marshal.Copy(output, 0, result.Data, total);
        return result;
    }

    private static async Task PostAsync(string baseUrl, string key, string path, byte[] jpeg)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("X-Api-Key", key);
        using var content = new ByteArrayContent(jpeg);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("image/jpeg");
        using var response = await http.PutAsync(new Uri(path, UriKind.Relative), content).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) throw new IOException($"reference upload: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync().ConfigureAwait(false)}");
    }
}

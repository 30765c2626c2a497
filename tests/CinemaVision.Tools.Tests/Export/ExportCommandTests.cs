using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CinemaVision.Core.Collection;
using CinemaVision.Core.Datasets;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Geometry;
using CinemaVision.Server.Collection;
using CinemaVision.Tools.Datasets;
using CinemaVision.Tools.Export;
using CinemaVision.Tools.Tests.Infrastructure;
using CinemaVision.Vision.Detectors;
using CinemaVision.Vision.Imaging;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using OpenCvSharp;

namespace CinemaVision.Tools.Tests.Export;

/// <summary>`cvtools export` from a real video, a real photo and the real central service: the data sets load back in every format.</summary>
[Collection("Console")]
public sealed class ExportCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cv-export-").FullName;

    [Fact]
    public async Task Export_PetsVideo_EveryFormatLoadsBackWithTheSameBoxes_AndTheManifestSaysWhereEachFrameCameFrom()
    {
        var output = Path.Combine(_dir, "pets");
        var (exit, stdout, stderr) = await Cli.RunAsync("export", "--input", RealData.PetsVideo, "--step", "20", "--start", "2026-11-30T20:00:00Z", "--camera", "walkway", "--out", output);

        Assert.True(exit == 0, stderr);
        Assert.Contains("5 images", stdout, StringComparison.Ordinal);
        var yolo = AnnotationFiles.Load(AnnotationFormat.Yolo, output);
        var coco = AnnotationFiles.Load(AnnotationFormat.Coco, Path.Combine(output, "annotations.json"));
        var cvat = AnnotationFiles.Load(AnnotationFormat.Cvat, Path.Combine(output, "annotations.xml"));
        Assert.Equal(5, coco.Images.Count);
        Assert.True(coco.BoxCount >= 15, $"{coco.BoxCount} people pre-annotated in 5 frames");
        Assert.Equal(coco.BoxCount, yolo.BoxCount);
        Assert.Equal(coco.BoxCount, cvat.BoxCount);
        Assert.All(coco.Images.SelectMany(i => i.Boxes), b => Assert.True(b.Score >= 0.55f && b.Label == "person"));

        using var tasks = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "label-studio.json")));
        Assert.Equal(5, tasks.RootElement.GetArrayLength());
        Assert.Equal(coco.BoxCount, tasks.RootElement.EnumerateArray().Sum(t => t.GetProperty("predictions")[0].GetProperty("result").GetArrayLength()));

        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "manifest.json")));
        var second = manifest.RootElement.GetProperty("images")[1];
        Assert.Equal("vtest_first100.avi", second.GetProperty("source").GetString());
        Assert.Equal(21, second.GetProperty("frame").GetInt32());
        Assert.StartsWith("2026-11-30T20:00:02", second.GetProperty("time").GetString(), StringComparison.Ordinal); // 7 fps
        Assert.Equal("walkway", second.GetProperty("camera").GetString());
        Assert.Equal("0.1.1rc0", second.GetProperty("model_version").GetString());
        Assert.True(second.GetProperty("tiles").GetArrayLength() > 1);
    }

    [Fact]
    public async Task Export_BlurFaces_WithNothingLabelled_BlursTheFacesOfTheRealPhoto()
    {
        // Phones are pre-annotated (there are none), so every face is outside the labelled boxes.
        var output = Path.Combine(_dir, "solvay");
        var (exit, stdout, stderr) = await Cli.RunAsync("export", "--input", RealData.Solvay, "--class", "phone", "--blur-faces", "--tiling", "full", "--out", output);

        Assert.True(exit == 0, stderr);
        Assert.Contains("faces blurred", stdout, StringComparison.Ordinal);
        using var original = Cv2.ImRead(RealData.Solvay);
        using var exported = Cv2.ImRead(Directory.GetFiles(Path.Combine(output, "images")).Single());
        var faces = AnnotationFiles.Load(AnnotationFormat.Csv, RealData.SolvayFacesCsv, RealData.Solvay, ["face"]).Images[0].Boxes;
        int blurred = faces.Count(f => Sharpness(exported, f.Box) < 0.35 * Sharpness(original, f.Box));
        Assert.True(blurred >= 25, $"{blurred} of {faces.Count} labelled faces blurred");
    }

    [Fact]
    public void FaceBlur_FacesInsideLabelledBoxes_StayUntouched()
    {
        using var image = Cv2.ImRead(RealData.Solvay);
        using var before = image.Clone();
        var faces = AnnotationFiles.Load(AnnotationFormat.Csv, RealData.SolvayFacesCsv, RealData.Solvay, ["face"]).Images[0].Boxes
            .Select(b => new Detection(b.Box, 0, 0.9f, ObjectClass.Face)).ToList();
        var kept = faces.Take(3).Select(f => new BoxF(f.Box.X - 5, f.Box.Y - 5, f.Box.Width + 10, f.Box.Height + 10)).ToList();

        int blurred = FaceBlur.BlurOutside(image, faces, kept);

        Assert.Equal(faces.Count - 3, blurred);
        foreach (var f in faces.Take(3))
        {
            // The kept face itself (not the margin a neighbour's blur may reach) is pixel-identical.
            var r = new Rect((int)f.Box.X + 8, (int)f.Box.Y + 8, (int)f.Box.Width - 16, (int)f.Box.Height - 16);
            using var a = new Mat(image, r);
            using var b = new Mat(before, r);
            using var diff = new Mat();
            Cv2.Absdiff(a, b, diff);
            Assert.Equal(0, Cv2.CountNonZero(diff.CvtColor(ColorConversionCodes.BGR2GRAY)));
        }
    }

    [Fact]
    public async Task Export_FromTheCentre_SelectsCollectedFramesByReasonAndUncertainty_AndRecordsTheirOrigin()
    {
        await using var centre = new CentreFactory();
        using var admin = await centre.SignedInAsync("admin", CentreFactory.AdminPassword);
        (await admin.PutAsJsonAsync("/api/v1/sites/site-1/auditoriums/aud-1/collection", new FrameCollectionPolicy { Enabled = true }, CentreClient.Json)).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/api/v1/admin/users", new { userName = "dana", password = "password-of-dana", role = "DataTeam" })).EnsureSuccessStatusCode();
        var key = (await (await admin.PostAsJsonAsync("/api/v1/admin/agents", new { agentId = "agent-1", siteId = "site-1" })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("apiKey").GetString();
        var agent = centre.CreateClient();
        agent.DefaultRequestHeaders.Add("X-Api-Key", key);

        // Two real frames of the PETS walkway as an agent would keep them.
        int n = 0;
        foreach (var (_, _, _, frame) in Commands.FrameInputs.Read(RealData.PetsVideo, 2, 20))
        {
            Cv2.ImEncode(".jpg", frame, out var jpeg);
            var meta = new CollectedFrameMeta
            {
                Id = $"agent-1-aud-1-{n}", AuditoriumId = "aud-1", CameraId = "front", CapturedAt = new DateTimeOffset(2026, 11, 30, 20, n, 0, TimeSpan.Zero),
                Reasons = n == 0 ? [CollectionReasons.Schedule] : [CollectionReasons.NearThreshold], Uncertainty = n == 0 ? 0.1 : 0.7, ModelName = "yolox_nano_coco_416", ModelVersion = "0.1.1rc0",
            };
            var image = new ByteArrayContent(jpeg);
            image.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
            using var form = new MultipartFormDataContent { { new StringContent(JsonSerializer.Serialize(meta, CentreClient.Json)), "meta" }, { image, "image", "f.jpg" } };
            (await agent.PostAsync("/api/v1/agent/frames", form)).EnsureSuccessStatusCode();
            n++;
        }

        var client = new CentreClient(centre.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true }));
        await client.SignInAsync("dana", "password-of-dana");
        var source = new CentreExportSource(client, new FrameSelection("site-1", "aud-1", null, null, CollectionReasons.NearThreshold, null, 0.5));
        using var detector = DetectorFactory.Create(new DetectionOptions { Tiling = TilingMode.Full });
        var result = new DatasetExporter(detector, null, new ExportOptions()).Run(source, Path.Combine(_dir, "centre"));

        Assert.Equal(1, result.Images);
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "centre", "manifest.json")));
        var entry = manifest.RootElement.GetProperty("images")[0];
        Assert.Equal(("centre:agent-1-aud-1-1", "aud-1", "front", "site-1"), (entry.GetProperty("source").GetString(), entry.GetProperty("auditorium").GetString(), entry.GetProperty("camera").GetString(), entry.GetProperty("site").GetString()));
        Assert.Equal(0.7, entry.GetProperty("uncertainty").GetDouble());
        Assert.StartsWith("2026-11-30T20:01:00", entry.GetProperty("time").GetString(), StringComparison.Ordinal);
        Assert.True(AnnotationFiles.Load(AnnotationFormat.Coco, Path.Combine(_dir, "centre", "annotations.json")).BoxCount >= 3);

        // Wrong password: a clear refusal, nothing exported.
        var stranger = new CentreClient(centre.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true }));
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => stranger.SignInAsync("dana", "wrong"));
    }

    private static double Sharpness(Mat image, BoxF box)
    {
        using var roi = new Mat(image, new Rect((int)box.X, (int)box.Y, (int)box.Width, (int)box.Height));
        using var grey = roi.CvtColor(ColorConversionCodes.BGR2GRAY);
        using var lap = grey.Laplacian(MatType.CV_64F);
        Cv2.MeanStdDev(lap, out _, out var std);
        return std.Val0 * std.Val0;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The real central host in memory with its own data folder.</summary>
    private sealed class CentreFactory : WebApplicationFactory<CollectedFrameStore>
    {
        public const string AdminPassword = "export-test-admin-1";
        private readonly string _folder = Directory.CreateTempSubdirectory("cv-centre-").FullName;

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Development");
            builder.UseSetting("CinemaVision:DataDirectory", _folder);
            builder.UseSetting("CinemaVision:BootstrapAdmin:Password", AdminPassword);
            builder.UseSetting("CinemaVision:TimeSeries:MaintenanceIntervalSeconds", "3600");
        }

        public async Task<HttpClient> SignedInAsync(string user, string password)
        {
            var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
            await new CentreClient(client).SignInAsync(user, password);
            return client;
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(_folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

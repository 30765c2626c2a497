using System.CommandLine;
using System.Globalization;
using CinemaVision.Core.Detections;
using CinemaVision.Tools.Datasets;
using CinemaVision.Tools.Export;
using CinemaVision.Vision.Detectors;
using Spectre.Console;

namespace CinemaVision.Tools.Commands;

/// <summary><c>cvtools export</c>: a labelling data set with the current model's detections as pre-annotations.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var input = new Option<string?>("--input") { Description = "A folder of images or a video file to export frames from." };
        var centre = new Option<string?>("--centre") { Description = "The central service URL to export collected frames from (sign in as a DataTeam user)." };
        var user = new Option<string?>("--user") { Description = "User name at the centre." };
        var passwordEnv = new Option<string>("--password-env") { Description = "Environment variable holding the password.", DefaultValueFactory = _ => "CINEMAVISION_PASSWORD" };
        var site = new Option<string?>("--site") { Description = "Centre: site id." };
        var auditorium = new Option<string?>("--auditorium") { Description = "Centre: auditorium id." };
        var since = new Option<string?>("--since") { Description = "Centre: frames captured at or after this time (ISO 8601)." };
        var until = new Option<string?>("--until") { Description = "Centre: frames captured before this time (ISO 8601)." };
        var kind = new Option<string?>("--kind") { Description = "Centre: frames kept when an event of this kind started (aisle, piracy, ...)." };
        var reason = new Option<string?>("--reason") { Description = "Centre: frames kept for this reason (schedule, event, near-threshold, tiled-vs-full, seat-flipping, spot-count)." };
        var uncertainty = new Option<double?>("--min-uncertainty") { Description = "Centre: frames the detector was at least this unsure about (0..1)." };
        var limit = new Option<int>("--limit") { Description = "At most this many frames.", DefaultValueFactory = _ => 1000 };
        var output = new Option<string>("--out") { Description = "Output folder.", Required = true };
        var formats = new Option<string>("--format") { Description = "Comma-separated: yolo, coco, cvat (Label Studio tasks are always written).", DefaultValueFactory = _ => "yolo,coco,cvat" };
        var classes = new Option<string>("--class") { Description = "Classes to pre-annotate, comma-separated (person, head, face, phone, camera).", DefaultValueFactory = _ => "person" };
        var blur = new Option<bool>("--blur-faces") { Description = "Blur faces (UltraFace) outside the pre-annotated boxes." };
        var faceModel = new Option<string>("--face-model") { Description = "Face model for --blur-faces.", DefaultValueFactory = _ => "ultraface_rfb_320" };
        var step = new Option<int>("--step") { Description = "Video/folder: every Nth frame.", DefaultValueFactory = _ => 1 };
        var start = new Option<string?>("--start") { Description = "Video: the recording's start time (ISO 8601), so each frame gets its time." };
        var camera = new Option<string?>("--camera") { Description = "Video/folder: the camera id recorded in the manifest." };
        var prefix = new Option<string>("--image-url-prefix") { Description = "Prefix of image URLs in label-studio.json (Label Studio local storage).", DefaultValueFactory = _ => "/data/local-files/?d=images/" };
        var args = new DetectorArguments();
        var command = new Command("export", """
            Write a data set for labelling from a folder, a video or the frames collected at the centre: images/, the
            current model's detections as pre-annotations in YOLO (labels/ + data.yaml + classes.txt), COCO
            (annotations.json) and CVAT 1.1 XML (annotations.xml), Label Studio tasks with predictions
            (label-studio.json + label-studio.xml labelling config), and manifest.json (each image's source, time,
            camera, auditorium, model and version, and the tile offsets it was analysed with). --blur-faces blurs the
            faces outside the pre-annotated boxes. Written to a temporary folder and moved into place when complete.

            Import: CVAT "Upload annotations" with CVAT 1.1 (annotations.xml) or COCO 1.0 after creating the task from
            images/; Label Studio: import label-studio.json with the images served from local storage.

            Examples:
              cvtools export --input vtest_first100.avi --step 10 --out pets-labels
              cvtools export --input hall-photos/ --model lffd_head --class head --blur-faces --out hall-heads
              CINEMAVISION_PASSWORD=... cvtools export --centre http://127.0.0.1:8080 --user dana --site s1 --auditorium a3 \
                  --since 2026-11-01 --reason near-threshold --min-uncertainty 0.5 --out unsure-frames
            """) { input, centre, user, passwordEnv, site, auditorium, since, until, kind, reason, uncertainty, limit, output, formats, classes, blur, faceModel, step, start, camera, prefix };
        args.AddTo(command);
        command.SetAction((parse, ct) => Task.FromResult(Ui.Guard("export", () =>
        {
            var console = Ui.Create();
            var wanted = parse.GetValue(classes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ObjectClassNames.Parse).ToList();
            var options = new ExportOptions
            {
                Classes = wanted,
                Formats = parse.GetValue(formats)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(f => AnnotationFiles.ParseFormat(f, "--format")).ToList(),
                BlurFaces = parse.GetValue(blur),
                FaceModel = parse.GetValue(faceModel)!,
                LabelStudioImagePrefix = parse.GetValue(prefix)!,
            };
            IExportSource source;
            if (parse.GetValue(centre) is { } url)
            {
                if (parse.GetValue(input) is not null) throw new ArgumentException("give --input or --centre, not both.");
                var name = parse.GetValue(user) ?? throw new ArgumentException("--user is required with --centre.");
                var password = Environment.GetEnvironmentVariable(parse.GetValue(passwordEnv)!) ?? throw new ArgumentException($"set the password in ${parse.GetValue(passwordEnv)} (it is never given on the command line).");
                var client = CentreClient.Create(url);
                client.SignInAsync(name, password, ct).GetAwaiter().GetResult();
                source = new CentreExportSource(client, new FrameSelection(parse.GetValue(site), parse.GetValue(auditorium), Time(parse.GetValue(since), "--since"), Time(parse.GetValue(until), "--until"),
                    parse.GetValue(reason), parse.GetValue(kind), parse.GetValue(uncertainty), parse.GetValue(limit)));
            }
            else
            {
                var path = parse.GetValue(input) ?? throw new ArgumentException("give --input (a folder or a video) or --centre URL.");
                source = new FileExportSource(path, parse.GetValue(step), parse.GetValue(limit), Time(parse.GetValue(start), "--start"), parse.GetValue(camera));
            }

            using var detector = DetectorFactory.Create(args.Build(parse));
            using var faces = options.BlurFaces ? DetectorFactory.Create(new DetectionOptions { Model = options.FaceModel, Tiling = TilingMode.Tiled }) : null;
            var exporter = new DatasetExporter(detector, faces, options);
            var result = Ui.Progress(console, "exporting", p => exporter.Run(source, parse.GetValue(output)!, new Progress<int>(n => p.Report((n, 0))), ct));
            var table = Ui.Table("class", "pre-annotations");
            foreach (var (label, count) in result.BoxesByLabel) table.Row(label, count);
            console.Write(table);
            console.WriteLine($"{result.Images} images, {result.Boxes} pre-annotations by {detector.Info.ModelName} {detector.Info.ModelVersion}{(options.BlurFaces ? $", {result.FacesBlurred} faces blurred" : "")} -> {result.Path}");
            return 0;
        })));
        return command;
    }

    private static DateTimeOffset? Time(string? value, string option) => value is null
        ? null
        : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : throw new ArgumentException($"{option}: '{value}' is not a time (ISO 8601, e.g. 2026-11-30T20:00:00Z).");
}

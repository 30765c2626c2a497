using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Evaluation;
using CinemaVision.Core.Geometry;
using CinemaVision.Tools.Datasets;
using CinemaVision.Tools.Evaluation;
using CinemaVision.Vision.Detectors;

namespace CinemaVision.Tools.Commands;

/// <summary>
/// <c>cvtools eval</c>: runs a model and tiling configuration over labelled footage and reports precision, recall,
/// F1 (IoU 0.5, class person by default), count MAE, frames and ms per frame. The JSON keys are a stable interface.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input") { Description = "Video file, image folder, MOT sequence folder, or one image.", Required = true };
        var gt = new Option<string?>("--gt") { Description = "Ground truth: MOT txt, YOLO txt (or folder of them), COCO json, or corner CSV (x1,y1,x2,y2). Default: the sequence folder's gt." };
        var gtFormat = new Option<string?>("--gt-format") { Description = "mot | yolo | coco | voc | cvat | csv (default: from the file; a folder of .xml files or with Annotations/ is voc)." };
        var compare = new Option<string?>("--compare") { Description = "Comma-separated configurations to compare, each 'tiling', 'model@tiling' or 'audience' (the audience pipeline; +face, +person, +empty add evidence), e.g. full,tiled or lffd_head@full,audience,audience+empty." };
        var json = new Option<string?>("--json") { Description = "Write the results as JSON to this file." };
        var objectClass = new Option<string>("--class") { Description = "person | head | face | phone.", DefaultValueFactory = _ => "person" };
        var match = new Option<string>("--match") { Description = "iou (IoU >= --iou) | center (label centre inside the detection: for part labels such as faces).", DefaultValueFactory = _ => "iou" };
        var iou = new Option<float>("--iou") { Description = "IoU threshold for a match.", DefaultValueFactory = _ => 0.5f };
        var frames = new Option<int>("--frames") { Description = "Evaluate at most N frames.", DefaultValueFactory = _ => int.MaxValue };
        var step = new Option<int>("--step") { Description = "Evaluate every Nth frame.", DefaultValueFactory = _ => 1 };
        var debugOut = new Option<string?>("--debug-out") { Description = "Folder to write annotated frames to (labels magenta, detections green)." };
        var ignore = new Option<string[]>("--ignore-region") { Description = "x,y,w,h of a region whose unlabelled detections count neither way (repeatable).", AllowMultipleArgumentsPerToken = false };
        var extras = new Extras();
        var list = new Option<string?>("--list") { Description = "Evaluate only the images this file names: one name a line, or a CSV 'filename,group' (such as a data set's rooms.csv) with --room." };
        var room = new Option<string?>("--room") { Description = "With a CSV --list: only the frames of this group (room), e.g. 1-403. Keep a room you never tune on." };
        var args = new DetectorArguments();
        var audience = new AudienceArguments();
        var command = new Command("eval", """
            Evaluate detector configurations on labelled footage. Prints and writes (--json) precision, recall, f1,
            count_mae (mean absolute error of the per-frame count), frames, ms_per_frame, tp, fp, fn at the operating
            threshold; ap50 and ap50_95 (COCO-style, 101-point interpolation, from one run at a low score floor);
            count_error; pr_curve and sizes (small/medium/large); seats (seat-level accuracy) with --auditorium.
            With --compare or --models, one such object per configuration under its name, side by side, and the
            PNG charts (precision-recall, AP by size) show them together. MOT boxes with flag 0 are ignore regions;
            MOT frame n+1 is video frame n.

            Examples:
              cvtools eval --input vtest_first100.avi --gt gt_first100.txt --compare full,tiled --json pets.json
              cvtools eval --input scut-head-classroom/JPEGImages --gt scut-head-classroom --class head --json heads.json
              cvtools eval --input hall.png --gt faces.csv --class face --model ultraface_rfb_640 --auditorium hall.auditorium.json
              cvtools eval --input frames/ --gt labels.json --models yolox_nano_coco_416,person_yolox_192 --plots charts/
              cvtools eval --input classroom/JPEGImages --gt classroom --class head --match center --compare audience,audience+face --list rooms.csv --room 1-403
            """) { input, gt, gtFormat, compare, json, objectClass, match, iou, frames, step, ignore, debugOut, list, room };
        extras.AddTo(command);
        args.AddTo(command);
        audience.AddTo(command);
        command.SetAction(parse =>
        {
            try
            {
                return Run(parse, args, extras, audience, input, gt, gtFormat, compare, json, objectClass, match, iou, frames, step, ignore, debugOut, list, room);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or Vision.Models.ModelAssetException)
            {
                Console.Error.WriteLine($"cvtools eval: {ex.Message}");
                return 2;
            }
        });
        return command;
    }

    /// <summary>The options eval grew for AP, charts, seats and model comparison.</summary>
    private sealed class Extras
    {
        public Option<string?> Models { get; } = new("--models") { Description = "Comma-separated model names to compare side by side (each with --tiling); same as --compare m1@tiling,m2@tiling." };
        public Option<string?> Plots { get; } = new("--plots") { Description = "Folder for the PNG charts (precision-recall curve, AP by size). Default: beside --json." };
        public Option<string?> Auditorium { get; } = new("--auditorium") { Description = "Auditorium file with a seat map: adds seat-level accuracy (seats)." };
        public Option<string?> Camera { get; } = new("--camera") { Description = "The auditorium camera whose seats to use (default: the first)." };
        public Option<float> ApFloor { get; } = new("--ap-floor") { Description = "Lowest detection score kept for AP (the operating threshold still decides precision/recall).", DefaultValueFactory = _ => 0.05f };

        public void AddTo(Command command)
        {
            foreach (var o in new Option[] { Models, Plots, Auditorium, Camera, ApFloor }) command.Options.Add(o);
        }
    }

    private static int Run(ParseResult parse, DetectorArguments args, Extras extras, AudienceArguments audience, Option<string> input, Option<string?> gt, Option<string?> gtFormat, Option<string?> compare,
        Option<string?> json, Option<string> objectClass, Option<string> match, Option<float> iou, Option<int> frames, Option<int> step, Option<string[]> ignore, Option<string?> debugOut,
        Option<string?> list, Option<string?> room)
    {
        if (parse.GetValue(room) is not null && parse.GetValue(list) is null) throw new ArgumentException("--room needs --list (a CSV of filename,room such as rooms.csv).");
        var only = parse.GetValue(list) is { } listPath ? FrameInputs.ReadList(listPath, parse.GetValue(room)) : null;
        var (source, sequenceGt) = FrameInputs.ResolveSequence(parse.GetValue(input)!);
        var gtPath = parse.GetValue(gt) ?? sequenceGt ?? throw new ArgumentException("--gt is required (the input has no gt/gt.txt).");
        var cls = ObjectClassNames.Parse(parse.GetValue(objectClass)!);
        var criterion = parse.GetValue(match)!.ToLowerInvariant() switch
        {
            "iou" => MatchCriterion.IoU,
            "center" or "centre" => MatchCriterion.Center,
            var m => throw new ArgumentException($"--match must be iou or center (was '{m}')."),
        };
        var ignoreRegions = (parse.GetValue(ignore) ?? []).Select(ParseRegion).ToList();

        var configs = ((parse.GetValue(extras.Models) is { } models
                ? string.Join(',', models.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(m => $"{m}@{parse.GetValue(args.Tiling)}"))
                : null) ?? parse.GetValue(compare) ?? parse.GetValue(args.Tiling)!)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(c => EvalDetector.IsAudience(c) ? (Name: c, Model: "", Tiling: "")
                : c.Contains('@', StringComparison.Ordinal) ? (Name: c, Model: c.Split('@')[0], Tiling: c.Split('@')[1])
                : (Name: c, Model: parse.GetValue(args.Model)!, Tiling: c))
            .ToList();
        bool sideBySide = parse.GetValue(compare) is not null || parse.GetValue(extras.Models) is not null;
        var auditorium = parse.GetValue(extras.Auditorium) is { } auditoriumPath
            ? Core.Auditoriums.AuditoriumFile.Parse(File.ReadAllText(auditoriumPath)).GetOrThrow()
            : null;
        var truthCache = new GroundTruthCache(gtPath, parse.GetValue(gtFormat), cls, source);

        var settings = new EvalSettings(cls, criterion, parse.GetValue(iou), ignoreRegions, parse.GetValue(frames), Math.Max(1, parse.GetValue(step)), parse.GetValue(extras.ApFloor),
            auditorium, parse.GetValue(extras.Camera), parse.GetValue(debugOut), only);
        var results = configs.Select(config =>
        {
            using var detector = EvalDetector.IsAudience(config.Name)
                ? EvalDetector.Audience(config.Name, parse, audience, settings.ApFloor)
                : EvalDetector.Tiled(args.Build(parse, config.Tiling, config.Model), cls, settings.ApFloor);
            return EvalRunner.Run(config.Name, detector, source, truthCache, settings);
        }).ToList();

        Console.WriteLine($"{"config",-28} {"precision",9} {"recall",7} {"f1",6} {"ap50",6} {"ap50_95",7} {"count_mae",9} {"frames",6} {"ms/frame",8} {"tiles",5}  tp/fp/fn");
        foreach (var m in results)
        {
            var r = m.Result;
            Console.WriteLine(FormattableString.Invariant($"{r.Name,-28} {r.Precision,9:0.000} {r.Recall,7:0.000} {r.F1,6:0.000} {Show(m.Ap.Ap50),6} {Show(m.Ap.Ap50To95),7} {r.CountMae,9:0.000} {r.Frames,6} {r.MsPerFrame,8:0.0} {m.Tiles,5:0.#}  {r.TruePositives}/{r.FalsePositives}/{r.FalseNegatives}"));
        }

        foreach (var m in results)
        {
            var sizes = string.Join("  ", m.Ap.Sizes.Select(z => FormattableString.Invariant($"{z.Name} {z.Labels} labels ap50 {Show(z.Ap50)} recall {Show(z.Recall50)}")));
            Console.WriteLine(FormattableString.Invariant($"{m.Result.Name}: {sizes}; count error mean {m.Counts.MeanSigned:+0.00;-0.00;0} rmse {m.Counts.Rmse:0.00} worst {m.Counts.MaxAbsolute}"));
            if (m.Seats is { } seatResult)
            {
                Console.WriteLine(FormattableString.Invariant($"{m.Result.Name}: seats {seatResult.Seats} x {seatResult.Frames} frames, accuracy {seatResult.Accuracy:0.000}, occupied precision {seatResult.Precision:0.000} recall {seatResult.Recall:0.000}"));
            }
        }

        var jsonPath = parse.GetValue(json);
        if (jsonPath is not null)
        {
            JsonNode node;
            if (!sideBySide)
            {
                node = ToJson(results[0]);
            }
            else
            {
                var obj = new JsonObject();
                foreach (var r in results) obj[r.Result.Name] = ToJson(r);
                node = obj;
            }

            File.WriteAllText(jsonPath, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }

        if ((parse.GetValue(extras.Plots) ?? (jsonPath is null ? null : Path.GetDirectoryName(Path.GetFullPath(jsonPath)))) is { } plots)
        {
            Directory.CreateDirectory(plots);
            var stem = jsonPath is null ? "eval" : Path.GetFileNameWithoutExtension(jsonPath);
            var series = results.Select(r => (r.Result.Name, r.Ap)).ToList();
            EvalPlots.PrecisionRecall(Path.Combine(plots, stem + "_pr.png"), series);
            EvalPlots.Sizes(Path.Combine(plots, stem + "_sizes.png"), series);
            Console.WriteLine($"charts: {Path.Combine(plots, stem + "_pr.png")}, {Path.Combine(plots, stem + "_sizes.png")}");
        }

        return 0;
    }

    private static string Show(double? v) => v is { } x ? x.ToString("0.000", CultureInfo.InvariantCulture) : "-";

    private static JsonObject ToJson(Measured m)
    {
        var r = m.Result;
        var o = new JsonObject
        {
            ["precision"] = Math.Round(r.Precision, 4),
            ["recall"] = Math.Round(r.Recall, 4),
            ["f1"] = Math.Round(r.F1, 4),
            ["count_mae"] = Math.Round(r.CountMae, 4),
            ["frames"] = r.Frames,
            ["ms_per_frame"] = Math.Round(r.MsPerFrame, 2),
            ["tp"] = r.TruePositives,
            ["fp"] = r.FalsePositives,
            ["fn"] = r.FalseNegatives,
            ["model"] = m.Model,
            ["tiling"] = m.Tiling,
            ["tiles_per_frame"] = Math.Round(m.Tiles, 2),
            ["score_threshold"] = Math.Round(m.Operating, 4),
            ["labels"] = m.Ap.Labels,
            ["ap50"] = Round(m.Ap.Ap50),
            ["ap75"] = Round(m.Ap.Ap75),
            ["ap50_95"] = Round(m.Ap.Ap50To95),
            ["count_error"] = new JsonObject
            {
                ["mean_absolute"] = Math.Round(m.Counts.MeanAbsolute, 4),
                ["mean_signed"] = Math.Round(m.Counts.MeanSigned, 4),
                ["rmse"] = Math.Round(m.Counts.Rmse, 4),
                ["max_absolute"] = m.Counts.MaxAbsolute,
                ["relative"] = Math.Round(m.Counts.RelativeMae, 4),
            },
            ["pr_curve"] = new JsonObject
            {
                ["iou"] = 0.5,
                ["recall"] = new JsonArray([.. AveragePrecisionResult.RecallPoints.Select(v => (JsonNode)v)]),
                ["precision"] = new JsonArray([.. m.Ap.PrecisionAtRecall50.Select(v => (JsonNode)Math.Round(v, 4))]),
            },
            ["sizes"] = new JsonObject(m.Ap.Sizes.Select(z => KeyValuePair.Create(z.Name, (JsonNode?)new JsonObject
            {
                ["labels"] = z.Labels,
                ["ap50"] = Round(z.Ap50),
                ["ap50_95"] = Round(z.Ap50To95),
                ["recall"] = Round(z.Recall50),
                ["max_recall"] = Round(z.MaxRecall50),
            }))),
        };
        if (m.Ap.ApCenter is { } center) o["ap_center"] = Math.Round(center, 4);
        if (m.Seats is { } s)
        {
            o["seats"] = new JsonObject
            {
                ["seats"] = s.Seats,
                ["frames"] = s.Frames,
                ["accuracy"] = Math.Round(s.Accuracy, 4),
                ["precision"] = Math.Round(s.Precision, 4),
                ["recall"] = Math.Round(s.Recall, 4),
                ["occupied_both"] = s.OccupiedBoth,
                ["occupied_detections_only"] = s.OccupiedOnlyByDetections,
                ["occupied_labels_only"] = s.OccupiedOnlyByLabels,
                ["empty_both"] = s.EmptyBoth,
            };
        }

        return o;
    }

    private static JsonValue? Round(double? v) => v is { } x ? JsonValue.Create(Math.Round(x, 4)) : null;

    private static BoxF ParseRegion(string value)
    {
        var p = value.Split(',').Select(s => float.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        return p.Length == 4 ? new BoxF(p[0], p[1], p[2], p[3]) : throw new ArgumentException($"--ignore-region must be x,y,w,h (was '{value}').");
    }

    /// <summary>
    /// Loads ground truth once through the annotation formats (<see cref="AnnotationFiles"/>). YOLO labels without
    /// names read class 0 as the evaluated class; a corner CSV labels every frame of its one image.
    /// </summary>
    internal sealed class GroundTruthCache(string path, string? format, ObjectClass cls, string images)
    {
        private readonly AnnotationFormat _format = format is null ? AnnotationFiles.Infer(path) : AnnotationFiles.ParseFormat(format, "--gt-format");
        private GroundTruthSet? _set;
        private IReadOnlyList<GroundTruthBox>? _single;

        public IReadOnlyList<GroundTruthBox> For(string key)
        {
            if (_set is null)
            {
                var pixels = _format is AnnotationFormat.Yolo or AnnotationFormat.Csv ? images : null;
                var annotations = AnnotationFiles.Load(_format, path, pixels, [ObjectClassNames.ToLabel(cls)]);
                _set = GroundTruthSet.From(annotations);
                if (_format == AnnotationFormat.Csv) _single = _set.For(_set.Keys.First());
            }

            return _single ?? _set.For(key);
        }
    }
}

using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Evaluation;
using CinemaVision.Core.Geometry;
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
        var gtFormat = new Option<string?>("--gt-format") { Description = "mot | yolo | coco | voc | csv (default: from the file; a folder of .xml files or with Annotations/ is voc)." };
        var compare = new Option<string?>("--compare") { Description = "Comma-separated configurations to compare, each 'tiling', 'model@tiling' or 'audience' (the audience pipeline; +face, +person, +empty add evidence), e.g. full,tiled or lffd_head@full,audience,audience+empty." };
        var json = new Option<string?>("--json") { Description = "Write the results as JSON to this file." };
        var objectClass = new Option<string>("--class") { Description = "person | head | face | phone.", DefaultValueFactory = _ => "person" };
        var match = new Option<string>("--match") { Description = "iou (IoU >= --iou) | center (label centre inside the detection: for part labels such as faces).", DefaultValueFactory = _ => "iou" };
        var iou = new Option<float>("--iou") { Description = "IoU threshold for a match.", DefaultValueFactory = _ => 0.5f };
        var frames = new Option<int>("--frames") { Description = "Evaluate at most N frames.", DefaultValueFactory = _ => int.MaxValue };
        var step = new Option<int>("--step") { Description = "Evaluate every Nth frame.", DefaultValueFactory = _ => 1 };
        var debugOut = new Option<string?>("--debug-out") { Description = "Folder to write annotated frames to (labels magenta, detections green)." };
        var ignore = new Option<string[]>("--ignore-region") { Description = "x,y,w,h of a region whose unlabelled detections count neither way (repeatable).", AllowMultipleArgumentsPerToken = false };
        var list = new Option<string?>("--list") { Description = "Evaluate only the images this file names: one name a line, or a CSV 'filename,group' (such as a data set's rooms.csv) with --room." };
        var room = new Option<string?>("--room") { Description = "With a CSV --list: only the frames of this group (room), e.g. 1-403. Keep a room you never tune on." };
        var args = new DetectorArguments();
        var audience = new AudienceArguments();
        var command = new Command("eval", """
            Evaluate a detector configuration on labelled footage. Prints and writes (--json) precision, recall, f1,
            count_mae (mean absolute error of the per-frame count), frames, ms_per_frame, tp, fp, fn. With --compare,
            one such object per configuration under its name. MOT boxes with flag 0 are ignore regions; MOT frame
            n+1 is video frame n.
            """) { input, gt, gtFormat, compare, json, objectClass, match, iou, frames, step, ignore, debugOut, list, room };
        args.AddTo(command);
        audience.AddTo(command);
        command.SetAction(parse =>
        {
            try
            {
                return Run(parse, args, audience, input, gt, gtFormat, compare, json, objectClass, match, iou, frames, step, ignore, debugOut, list, room);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or Vision.Models.ModelAssetException)
            {
                Console.Error.WriteLine($"cvtools eval: {ex.Message}");
                return 2;
            }
        });
        return command;
    }

    private static int Run(ParseResult parse, DetectorArguments args, AudienceArguments audience, Option<string> input, Option<string?> gt, Option<string?> gtFormat, Option<string?> compare,
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

        var configs = (parse.GetValue(compare) ?? parse.GetValue(args.Tiling)!)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(c => EvalDetector.IsAudience(c) ? (Name: c, Model: "audience", Tiling: "bands")
                : c.Contains('@', StringComparison.Ordinal) ? (Name: c, Model: c.Split('@')[0], Tiling: c.Split('@')[1])
                : (Name: c, Model: parse.GetValue(args.Model)!, Tiling: c))
            .ToList();

        var results = new List<(EvaluationResult Result, string Model, string Tiling, double Tiles)>();
        foreach (var config in configs)
        {
            var options = EvalDetector.IsAudience(config.Name) ? new DetectionOptions() : args.Build(parse, config.Tiling, config.Model);
            using var detector = EvalDetector.Create(config.Name, options, parse, audience);
            var evaluator = new DetectionEvaluator(cls, criterion, parse.GetValue(iou), ignoreRegions);
            var truthCache = new GroundTruthCache(gtPath, parse.GetValue(gtFormat), cls);
            double totalMs = 0;
            long tiles = 0;
            // Warm-up so the first frame's one-off costs (graph optimisation, page faults) do not skew ms per frame.
            foreach (var (_, _, _, image) in FrameInputs.Read(source, 1, 1, only)) detector.Detect(image);
            foreach (var (_, key, _, image) in FrameInputs.Read(source, parse.GetValue(frames), Math.Max(1, parse.GetValue(step)), only))
            {
                var sw = Stopwatch.StartNew();
                var found = detector.Detect(image);
                totalMs += sw.Elapsed.TotalMilliseconds;
                tiles += detector.LastTiles;
                var truth = truthCache.For(key, new SizeI(image.Width, image.Height));
                var outcome = evaluator.AddFrame(found, truth);
                if (parse.GetValue(debugOut) is { } dir)
                {
                    Directory.CreateDirectory(dir);
                    using var canvas = image.Clone();
                    foreach (var t in truth)
                    {
                        OpenCvSharp.Cv2.Rectangle(canvas, new OpenCvSharp.Rect((int)t.Box.X, (int)t.Box.Y, (int)t.Box.Width, (int)t.Box.Height), t.Ignore ? new OpenCvSharp.Scalar(128, 128, 128) : new OpenCvSharp.Scalar(255, 0, 255), 1);
                    }

                    DetectCommand.Draw(canvas, found.Where(d => d.Class == cls));
                    OpenCvSharp.Cv2.PutText(canvas, $"tp {outcome.TruePositives} fp {outcome.FalsePositives} fn {outcome.FalseNegatives}", new OpenCvSharp.Point(5, 15), OpenCvSharp.HersheyFonts.HersheySimplex, 0.5, new OpenCvSharp.Scalar(0, 255, 255), 1);
                    OpenCvSharp.Cv2.ImWrite(Path.Combine(dir, $"{config.Name.Replace('@', '_')}_{key}.png"), canvas);
                }
            }

            if (evaluator.Frames == 0) throw new InvalidDataException($"No frames could be read from {source}.");
            results.Add((evaluator.Result(config.Name, totalMs / evaluator.Frames), config.Model, config.Tiling, (double)tiles / evaluator.Frames));
        }

        Console.WriteLine($"{"config",-28} {"precision",9} {"recall",7} {"f1",6} {"count_mae",9} {"frames",6} {"ms/frame",8} {"tiles",5}  tp/fp/fn");
        foreach (var (r, _, _, t) in results)
        {
            Console.WriteLine(FormattableString.Invariant($"{r.Name,-28} {r.Precision,9:0.000} {r.Recall,7:0.000} {r.F1,6:0.000} {r.CountMae,9:0.000} {r.Frames,6} {r.MsPerFrame,8:0.0} {t,5:0.#}  {r.TruePositives}/{r.FalsePositives}/{r.FalseNegatives}"));
        }

        if (parse.GetValue(json) is { } jsonPath)
        {
            JsonNode node;
            if (parse.GetValue(compare) is null)
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

        return 0;
    }

    private static JsonObject ToJson((EvaluationResult Result, string Model, string Tiling, double Tiles) r) => new()
    {
        ["precision"] = Math.Round(r.Result.Precision, 4),
        ["recall"] = Math.Round(r.Result.Recall, 4),
        ["f1"] = Math.Round(r.Result.F1, 4),
        ["count_mae"] = Math.Round(r.Result.CountMae, 4),
        ["frames"] = r.Result.Frames,
        ["ms_per_frame"] = Math.Round(r.Result.MsPerFrame, 2),
        ["tp"] = r.Result.TruePositives,
        ["fp"] = r.Result.FalsePositives,
        ["fn"] = r.Result.FalseNegatives,
        ["model"] = r.Model,
        ["tiling"] = r.Tiling,
        ["tiles_per_frame"] = Math.Round(r.Tiles, 2),
    };

    private static BoxF ParseRegion(string value)
    {
        var p = value.Split(',').Select(s => float.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        return p.Length == 4 ? new BoxF(p[0], p[1], p[2], p[3]) : throw new ArgumentException($"--ignore-region must be x,y,w,h (was '{value}').");
    }

    /// <summary>Loads ground truth once; for YOLO folders, one label file per image.</summary>
    private sealed class GroundTruthCache(string path, string? format, ObjectClass cls)
    {
        private readonly string _format = (format ?? Infer(path)).ToLowerInvariant();
        private GroundTruthSet? _set;

        public IReadOnlyList<GroundTruthBox> For(string key, SizeI imageSize)
        {
            switch (_format)
            {
                case "mot":
                    _set ??= GroundTruthParser.ParseMot(File.ReadAllText(path), cls);
                    return _set.For(key);
                case "coco":
                    _set ??= GroundTruthParser.ParseCoco(File.ReadAllText(path));
                    return _set.For(key);
                case "voc":
                    _set ??= GroundTruthParser.ParseVocFolder(path);
                    return _set.For(key);
                case "yolo":
                {
                    var file = Directory.Exists(path) ? Path.Combine(path, Path.ChangeExtension(key, ".txt")) : path;
                    return File.Exists(file) ? GroundTruthParser.ParseYolo(File.ReadAllText(file), imageSize, [cls]) : [];
                }

                case "csv":
                    return GroundTruthParser.ParseCornerCsv(File.ReadAllText(path), cls);
                default:
                    throw new ArgumentException($"--gt-format must be mot, yolo, coco, voc or csv (was '{_format}').");
            }
        }

        private static string Infer(string p)
        {
            if (Directory.Exists(p)) return Directory.Exists(Path.Combine(p, "Annotations")) || Directory.EnumerateFiles(p, "*.xml").Any() ? "voc" : "yolo";
            if (!File.Exists(p)) throw new FileNotFoundException($"Ground truth {p} does not exist.", p);
            var ext = Path.GetExtension(p).ToLowerInvariant();
            if (ext == ".json") return "coco";
            if (ext == ".csv") return "csv";
            var first = File.ReadLines(p).FirstOrDefault(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith('#')) ?? "";
            return first.Count(c => c == ',') >= 5 ? "mot" : "yolo";
        }
    }
}

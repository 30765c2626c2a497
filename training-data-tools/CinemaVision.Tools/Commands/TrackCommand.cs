using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Evaluation;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Tracking;
using CinemaVision.Vision.Detectors;

namespace CinemaVision.Tools.Commands;

/// <summary><c>cvtools track</c>: runs detection + tracking over a MOT sequence and reports CLEAR MOT figures (MOTA, ID switches).</summary>
internal static class TrackCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input") { Description = "Video or MOT sequence folder.", Required = true };
        var gt = new Option<string?>("--gt") { Description = "MOT ground truth (default: the sequence folder's)." };
        var json = new Option<string?>("--json") { Description = "Write the figures as JSON." };
        var ignore = new Option<string[]>("--ignore-region") { Description = "x,y,w,h where unlabelled tracks count neither way (repeatable)." };
        var args = new DetectorArguments();
        var command = new Command("track", "Track people over a labelled sequence and report MOTA, ID switches, misses and false positives.") { input, gt, json, ignore };
        args.AddTo(command);
        command.SetAction(parse =>
        {
            var (source, sequenceGt) = FrameInputs.ResolveSequence(parse.GetValue(input)!);
            var truth = GroundTruthParser.ParseMot(File.ReadAllText(parse.GetValue(gt) ?? sequenceGt ?? throw new ArgumentException("--gt is required.")));
            var options = args.Build(parse);
            // The tracker's second pass needs the low-score people too; its first pass starts at the person threshold.
            var trackerOptions = new TrackerOptions();
            options = options with { Merge = options.Merge with { ScoreThresholds = new Dictionary<ObjectClass, float>(options.Merge.ScoreThresholds) { [ObjectClass.Person] = trackerOptions.LowScore } } };
            using var detector = DetectorFactory.Create(options);
            var tracker = new ByteTracker(trackerOptions);
            var metrics = new MotMetrics();
            var regions = (parse.GetValue(ignore) ?? []).Select(v => v.Split(',').Select(x => float.Parse(x, CultureInfo.InvariantCulture)).ToArray()).Select(p => new BoxF(p[0], p[1], p[2], p[3])).ToList();
            var start = DateTimeOffset.UnixEpoch;
            foreach (var (index, key, _, image) in FrameInputs.Read(source))
            {
                tracker.Update(detector.Detect(image), start.AddSeconds(index / 7.0));
                var tracks = tracker.Tracks.Where(t => t.State == TrackState.Confirmed && t.LostFrames == 0).Select(t => (t.Id, t.Box)).ToList();
                var labels = truth.For(key).Where(b => !b.Ignore).Select(b => (b.TrackId, b.Box)).ToList();
                metrics.AddFrame(labels, tracks, regions);
            }

            Console.WriteLine(FormattableString.Invariant($"frames {metrics.Frames}, labels {metrics.GroundTruth}, matches {metrics.Matches}, misses {metrics.Misses}, false positives {metrics.FalsePositives}, ID switches {metrics.IdSwitches}, MOTA {metrics.Mota:0.000}"));
            if (parse.GetValue(json) is { } path)
            {
                File.WriteAllText(path, new JsonObject
                {
                    ["frames"] = metrics.Frames,
                    ["labels"] = metrics.GroundTruth,
                    ["matches"] = metrics.Matches,
                    ["misses"] = metrics.Misses,
                    ["false_positives"] = metrics.FalsePositives,
                    ["id_switches"] = metrics.IdSwitches,
                    ["mota"] = Math.Round(metrics.Mota, 4),
                }.ToJsonString());
            }

            return 0;
        });
        return command;
    }
}

using System.Diagnostics;
using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Evaluation;
using CinemaVision.Core.Geometry;
using CinemaVision.Tools.Commands;
using CinemaVision.Vision.Detectors;

namespace CinemaVision.Tools.Evaluation;

/// <summary>How a labelled set is scored (the same for every configuration compared).</summary>
internal sealed record EvalSettings(
    ObjectClass Class,
    MatchCriterion Criterion,
    float IoU,
    IReadOnlyList<BoxF> IgnoreRegions,
    int Frames = int.MaxValue,
    int Step = 1,
    float ApFloor = 0.05f,
    Auditorium? Auditorium = null,
    string? Camera = null,
    string? DebugOut = null,
    IReadOnlySet<string>? Only = null);

/// <summary>What one configuration measured.</summary>
internal sealed record Measured(EvaluationResult Result, string Model, string Tiling, double Tiles, float Operating, AveragePrecisionResult Ap, CountErrorSummary Counts, SeatAccuracyResult? Seats)
{
    public Core.Models.GateFigures GateFigures => new(Ap.Ap50, Ap.Ap50To95, Result.Precision, Result.Recall, Result.CountMae, Result.Frames);
}

/// <summary>Runs one detector configuration over labelled frames: operating-point figures, AP, count error, seats.</summary>
internal static class EvalRunner
{
    /// <summary>A tiled model configuration.</summary>
    public static Measured Run(string name, DetectionOptions options, string source, EvalCommand.GroundTruthCache truthCache, EvalSettings s)
    {
        using var detector = EvalDetector.Tiled(options, s.Class, s.ApFloor);
        return Run(name, detector, source, truthCache, s);
    }

    /// <summary>
    /// One run at a low score floor for the evaluated class: AP needs the whole ranking; the operating point
    /// (precision, recall, F1, counts, seats) keeps only detections at or above the configuration's threshold.
    /// </summary>
    public static Measured Run(string name, EvalDetector detector, string source, EvalCommand.GroundTruthCache truthCache, EvalSettings s)
    {
        var cls = s.Class;
        float operating = detector.Operating;
        var evaluator = new DetectionEvaluator(cls, s.Criterion, s.IoU, s.IgnoreRegions);
        var ap = new AveragePrecisionEvaluator(cls, operating, s.Criterion == MatchCriterion.Center, s.IgnoreRegions);
        var counts = new CountErrorAccumulator();
        SeatAccuracyEvaluator? seats = null;
        double totalMs = 0;
        long tiles = 0;
        // Warm-up so the first frame's one-off costs (graph optimisation, page faults) do not skew ms per frame.
        foreach (var (_, _, _, image) in FrameInputs.Read(source, 1, 1, s.Only)) detector.Detect(image);
        foreach (var (_, key, _, image) in FrameInputs.Read(source, s.Frames, s.Step, s.Only))
        {
            var sw = Stopwatch.StartNew();
            var (all, found) = detector.Detect(image);
            totalMs += sw.Elapsed.TotalMilliseconds;
            var frameSize = new SizeI(image.Width, image.Height);
            tiles += detector.LastTiles;
            var truth = truthCache.For(key);
            var outcome = evaluator.AddFrame(found, truth);
            ap.AddFrame(all, truth);
            counts.Add(outcome.Counted, outcome.Labelled);
            if (s.Auditorium is { } auditorium)
            {
                seats ??= new SeatAccuracyEvaluator(SeatMapFor(auditorium, s.Camera, frameSize), cls);
                seats.AddFrame(found, truth);
            }

            if (s.DebugOut is { } dir)
            {
                Directory.CreateDirectory(dir);
                using var canvas = image.Clone();
                foreach (var t in truth)
                {
                    OpenCvSharp.Cv2.Rectangle(canvas, new OpenCvSharp.Rect((int)t.Box.X, (int)t.Box.Y, (int)t.Box.Width, (int)t.Box.Height), t.Ignore ? new OpenCvSharp.Scalar(128, 128, 128) : new OpenCvSharp.Scalar(255, 0, 255), 1);
                }

                DetectCommand.Draw(canvas, found.Where(d => d.Class == cls));
                OpenCvSharp.Cv2.PutText(canvas, $"tp {outcome.TruePositives} fp {outcome.FalsePositives} fn {outcome.FalseNegatives}", new OpenCvSharp.Point(5, 15), OpenCvSharp.HersheyFonts.HersheySimplex, 0.5, new OpenCvSharp.Scalar(0, 255, 255), 1);
                OpenCvSharp.Cv2.ImWrite(Path.Combine(dir, $"{name.Replace('@', '_')}_{key}.png"), canvas);
            }
        }

        if (evaluator.Frames == 0) throw new InvalidDataException($"No frames could be read from {source}.");
        return new Measured(evaluator.Result(name, totalMs / evaluator.Frames), detector.Model, detector.Tiling, (double)tiles / evaluator.Frames, operating, ap.Result(), counts.Result(), seats?.Result());
    }

    private static IReadOnlyList<Seat> SeatMapFor(Auditorium auditorium, string? cameraId, SizeI frame)
    {
        var seats = SeatMaps.SeatsOf(auditorium, cameraId);
        var camera = auditorium.Cameras.First(c => c.Seats == seats);
        return SeatMaps.ScaleTo(seats, camera.Reference.Size, frame);
    }
}

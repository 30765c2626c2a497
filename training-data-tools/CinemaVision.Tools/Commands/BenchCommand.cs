using System.CommandLine;
using System.Diagnostics;
using CinemaVision.Core.Geometry;
using CinemaVision.Vision.Assets;
using CinemaVision.Vision.Detectors;
using OpenCvSharp;

namespace CinemaVision.Tools.Commands;

/// <summary>
/// <c>cvtools bench</c>: per frame size, tiles per frame, raw ONNX Runtime ms per tile, end-to-end ms per frame
/// (letterbox + inference + decode + merge; decode of the video excluded), managed bytes allocated per frame, and
/// efficiency = tiles x raw ms per tile / end-to-end ms.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var sizes = new Option<string>("--sizes") { Description = "Frame sizes WxH, comma-separated.", DefaultValueFactory = _ => "768x576,1920x1080,3840x2160" };
        var iterations = new Option<int>("--iterations") { Description = "Timed frames per size.", DefaultValueFactory = _ => 10 };
        var image = new Option<string?>("--image") { Description = "Source image scaled to each size (default: a PETS frame)." };
        var audience = new Option<bool>("--audience") { Description = "Time the audience pipeline (head model in perspective bands, fusion): a first look (survey and bands) and a camera's steady state (perspective known)." };
        var args = new DetectorArguments();
        var audienceArgs = new AudienceArguments();
        var command = new Command("bench", "Measure detection speed and allocations per frame size.\n\nExamples:\n  cvtools bench\n  cvtools bench --sizes 1920x1080 --tiling auto --iterations 20\n  cvtools bench --audience --sizes 1920x1080") { sizes, iterations, image, audience };
        args.AddTo(command);
        command.Options.Add(audienceArgs.HeadModel);
        command.Options.Add(audienceArgs.Settings);
        command.SetAction(parse =>
        {
            if (parse.GetValue(audience)) return BenchAudience(parse, args, audienceArgs, parse.GetValue(sizes)!, parse.GetValue(image), Math.Max(1, parse.GetValue(iterations)));

            var options = args.Build(parse);
            using var source = LoadSource(parse.GetValue(image));
            using var detector = DetectorFactory.Create(options);
            int n = Math.Max(1, parse.GetValue(iterations));
            double rawMs = RawMsPerTile(detector, source, n * 4);
            Console.WriteLine($"model {options.Model}, tiling {options.Tiling}, tile sizes {(options.TileSizes is null ? "default" : string.Join(",", options.TileSizes))}, overlap {options.Overlap}, full frame {options.FullFrame}, intra-op threads {options.IntraOpThreads}, tiles in parallel {options.TileParallelism}, {Environment.ProcessorCount} cores");
            Console.WriteLine($"raw ONNX Runtime ms per tile (one run at a time): {rawMs:0.00}");
            Console.WriteLine($"{"frame",-10} {"tiles",5} {"raw ms/tile",11} {"e2e ms/frame",12} {"p95 ms",7} {"alloc B/frame",13} {"efficiency",10} {"tiles/s",8}");
            foreach (var spec in parse.GetValue(sizes)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var wh = spec.Split('x');
                var size = new SizeI(int.Parse(wh[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(wh[1], System.Globalization.CultureInfo.InvariantCulture));
                using var frame = new Mat();
                Cv2.Resize(source, frame, new Size(size.Width, size.Height), 0, 0, InterpolationFlags.Linear);
                int tiles = detector.PlanFor(size).TileCount;
                for (int i = 0; i < 2; i++) detector.Detect(frame);
                var times = new double[n];
                long before = GC.GetTotalAllocatedBytes(precise: true);
                for (int i = 0; i < n; i++)
                {
                    var sw = Stopwatch.StartNew();
                    detector.Detect(frame);
                    times[i] = sw.Elapsed.TotalMilliseconds;
                }

                long alloc = (GC.GetTotalAllocatedBytes(precise: true) - before) / n;
                double mean = times.Average();
                Array.Sort(times);
                double p95 = times[Math.Min(n - 1, (int)Math.Ceiling(0.95 * n) - 1)];
                Console.WriteLine(FormattableString.Invariant($"{spec,-10} {tiles,5} {rawMs,11:0.00} {mean,12:0.0} {p95,7:0.0} {alloc,13:N0} {tiles * rawMs / mean,10:0.00} {tiles * 1000 / mean,8:0.0}"));
            }

            return 0;
        });
        return command;
    }

    /// <summary>
    /// The audience pipeline per frame size: a first look at a camera (no perspective yet: survey pass, fit, bands)
    /// and its steady state (the camera's perspective kept: bands only), with the time of each part.
    /// </summary>
    private static int BenchAudience(ParseResult parse, DetectorArguments args, AudienceArguments audienceArgs, string sizeList, string? imagePath, int n)
    {
        using var source = LoadSource(imagePath);
        int threads = parse.GetValue(args.Threads), parallel = parse.GetValue(args.Parallel);
        Console.WriteLine($"audience pipeline, intra-op threads {threads}, tiles in parallel {parallel}, {Environment.ProcessorCount} cores");
        Console.WriteLine($"{"frame",-10} {"pass",-7} {"tiles",5} {"survey ms",9} {"bands ms",8} {"total ms",8} {"p95 ms",7} {"heads",5}");
        var models = audienceArgs.Models(parse);
        var pipeline = audienceArgs.Pipeline(parse);
        foreach (var spec in sizeList.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var wh = spec.Split('x');
            using var frame = new Mat();
            Cv2.Resize(source, frame, new Size(int.Parse(wh[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(wh[1], System.Globalization.CultureInfo.InvariantCulture)), 0, 0, InterpolationFlags.Linear);
            foreach (var (pass, keep) in new[] { ("first", false), ("steady", true) })
            {
                using var detector = new Vision.Audience.AudienceDetector(models, pipeline, keepPerspective: keep, threads: parallel, intraOpThreads: threads);
                for (int i = 0; i < 2; i++) detector.Analyse(frame);
                var results = Enumerable.Range(0, n).Select(_ => detector.Analyse(frame)).ToList();
                var totals = results.Select(r => r.TotalMs).Order().ToArray();
                var p95 = totals[Math.Min(n - 1, (int)Math.Ceiling(0.95 * n) - 1)];
                Console.WriteLine(FormattableString.Invariant($"{spec,-10} {pass,-7} {results.Average(r => r.Tiles),5:0.#} {results.Average(r => r.SurveyMs),9:0} {results.Average(r => r.BandsMs),8:0} {totals.Average(),8:0} {p95,7:0} {results.Average(r => r.Count),5:0}"));
            }
        }

        return 0;
    }

    private static Mat LoadSource(string? path)
    {
        if (path is not null) return Cv2.ImRead(path, ImreadModes.Color);
        using var capture = new VideoCapture(AssetLocator.Resolve("data/pets09-s2l1/vtest_first100.avi"));
        var frame = new Mat();
        capture.Read(frame);
        return frame;
    }

    /// <summary>Mean time of the model's Run alone on an already prepared input, one run at a time.</summary>
    private static double RawMsPerTile(TiledDetector detector, Mat source, int runs)
    {
        var model = detector.Model;
        var buffers = model.Rent();
        try
        {
            model.Prepare(buffers, source, new RectI(0, 0, Math.Min(source.Width, model.InputSize.Width), Math.Min(source.Height, model.InputSize.Height)));
            for (int i = 0; i < 3; i++) model.Run(buffers);
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < runs; i++) model.Run(buffers);
            return sw.Elapsed.TotalMilliseconds / runs;
        }
        finally
        {
            model.Return(buffers);
        }
    }
}

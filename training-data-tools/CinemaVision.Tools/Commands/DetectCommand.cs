using System.CommandLine;
using System.Diagnostics;
using CinemaVision.Core.Detections;
using CinemaVision.Vision.Detectors;
using OpenCvSharp;

namespace CinemaVision.Tools.Commands;

/// <summary><c>cvtools detect INPUT --out FILE</c>: draws merged detections on an image or a video.</summary>
internal static class DetectCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "Image, video file or image folder." };
        var output = new Option<string>("--out") { Description = "Annotated image (.jpg/.png) or video (.avi, MJPG).", Required = true };
        var showTiles = new Option<bool>("--show-tiles") { Description = "Also draw the tile grid." };
        var maxFrames = new Option<int>("--frames") { Description = "Stop after N frames of a video.", DefaultValueFactory = _ => int.MaxValue };
        var args = new DetectorArguments();
        var command = new Command("detect", "Run the (tiled) detector on an image or video and draw what it finds.\n\nExamples:\n  cvtools detect photo.jpg --out photo-detections.png\n  cvtools detect hall.mp4 --model person_yolox_192 --show-tiles --frames 100 --out hall.avi") { input, output, showTiles, maxFrames };
        args.AddTo(command);
        command.SetAction(parse =>
        {
            var options = args.Build(parse);
            using var detector = DetectorFactory.Create(options);
            var outPath = parse.GetValue(output)!;
            var src = parse.GetValue(input)!;
            VideoWriter? writer = null;
            try
            {
                int frames = 0;
                double totalMs = 0;
                foreach (var (_, _, name, image) in FrameInputs.Read(src, parse.GetValue(maxFrames)))
                {
                    var sw = Stopwatch.StartNew();
                    var found = detector.Detect(image);
                    totalMs += sw.Elapsed.TotalMilliseconds;
                    frames++;
                    using var canvas = image.Clone();
                    if (parse.GetValue(showTiles))
                    {
                        foreach (var t in detector.PlanFor(new(image.Width, image.Height)).Tiles.Where(t => !t.IsFullFrame))
                        {
                            Cv2.Rectangle(canvas, new Rect(t.Region.X, t.Region.Y, t.Region.Width, t.Region.Height), new Scalar(90, 90, 90), 1);
                        }
                    }

                    Draw(canvas, found);
                    int people = found.Count(d => d.Class == ObjectClass.Person);
                    Console.WriteLine($"{name}: {people} people, {found.Count(d => d.Class == ObjectClass.Phone)} phones, {found.Count(d => d.Class == ObjectClass.Face)} faces ({sw.Elapsed.TotalMilliseconds:0} ms)");
                    if (FrameInputs.IsImage(outPath))
                    {
                        Cv2.ImWrite(outPath, canvas);
                        break;
                    }

                    writer ??= new VideoWriter(outPath, FourCC.MJPG, 10, canvas.Size());
                    if (!writer.IsOpened()) throw new IOException($"Cannot write video {outPath} (use .avi).");
                    writer.Write(canvas);
                }

                Console.WriteLine($"{frames} frame(s), {totalMs / Math.Max(1, frames):0.0} ms per frame; wrote {outPath}");
                return 0;
            }
            finally
            {
                writer?.Dispose();
            }
        });
        return command;
    }

    internal static void Draw(Mat canvas, IEnumerable<Detection> detections)
    {
        foreach (var d in detections)
        {
            var color = d.Class switch
            {
                ObjectClass.Person => new Scalar(0, 200, 0),
                ObjectClass.Phone => new Scalar(0, 0, 255),
                ObjectClass.Face => new Scalar(255, 160, 0),
                _ => new Scalar(200, 200, 200),
            };
            var r = new Rect((int)d.Box.X, (int)d.Box.Y, Math.Max(1, (int)d.Box.Width), Math.Max(1, (int)d.Box.Height));
            Cv2.Rectangle(canvas, r, color, 2);
            Cv2.PutText(canvas, $"{d.Class} {d.Score:0.00}", new Point(r.X, Math.Max(10, r.Y - 3)), HersheyFonts.HersheySimplex, 0.4, color, 1);
        }
    }
}

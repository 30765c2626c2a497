using System.Globalization;
using CinemaVision.Tools.Commands;
using OpenCvSharp;

namespace CinemaVision.Tools.Export;

/// <summary>One frame to export: its pixels (owned by the source until the next frame), an output name and where it came from.</summary>
public sealed record ExportFrame(Mat Image, string FileName, ExportProvenance Provenance);

/// <summary>Where a frame came from, as the manifest records it.</summary>
public sealed record ExportProvenance(string Source, int? Frame = null, DateTimeOffset? Time = null, string? Camera = null, string? Auditorium = null, string? Site = null, string? Kind = null, double? Uncertainty = null, string? CapturedWith = null);

/// <summary>Frames to export, in order.</summary>
public interface IExportSource
{
    string Describe();

    IEnumerable<ExportFrame> Frames(CancellationToken cancellationToken);
}

/// <summary>
/// A folder of images or a video file (every <c>step</c>-th frame, at most <c>max</c>). For a video the time of a
/// frame is its position in the video (plus <c>start</c> when the recording's start is known).
/// </summary>
public sealed class FileExportSource(string path, int step = 1, int max = int.MaxValue, DateTimeOffset? start = null, string? camera = null) : IExportSource
{
    public string Describe() => Directory.Exists(path) ? $"folder {path}" : $"video {path}";

    public IEnumerable<ExportFrame> Frames(CancellationToken cancellationToken)
    {
        bool video = File.Exists(path) && FrameInputs.IsVideo(path);
        double fps = 0;
        if (video)
        {
            using var probe = new VideoCapture(path);
            fps = probe.Fps;
        }

        var stem = Path.GetFileNameWithoutExtension(path);
        foreach (var (index, _, name, image) in FrameInputs.Read(path, max, Math.Max(1, step)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (video)
            {
                var offset = fps > 0 ? TimeSpan.FromSeconds(index / fps) : TimeSpan.Zero;
                yield return new ExportFrame(image, string.Create(CultureInfo.InvariantCulture, $"{stem}_{index + 1:D6}.jpg"),
                    new ExportProvenance(Path.GetFileName(path), index + 1, start?.Add(offset), camera));
            }
            else
            {
                yield return new ExportFrame(image, Path.ChangeExtension(name, ".jpg"), new ExportProvenance(name, Time: start, Camera: camera));
            }
        }
    }
}

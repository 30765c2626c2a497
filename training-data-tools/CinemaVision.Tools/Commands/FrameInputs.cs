using OpenCvSharp;

namespace CinemaVision.Tools.Commands;

/// <summary>Frames of a video file, an image folder, a MOT sequence folder or a single image, in order.</summary>
internal static class FrameInputs
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp", ".webp"];
    private static readonly string[] VideoExtensions = [".avi", ".mp4", ".mkv", ".mov", ".m4v", ".webm", ".mjpeg", ".mjpg"];

    public static bool IsImage(string path) => ImageExtensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    public static bool IsVideo(string path) => VideoExtensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>A sequence folder's video or image directory, and its ground truth if it has one.</summary>
    public static (string Source, string? GroundTruth) ResolveSequence(string input)
    {
        if (!Directory.Exists(input)) return (input, null);
        string? gt = new[] { Path.Combine(input, "gt", "gt.txt") }.Concat(Directory.GetFiles(input, "gt*.txt")).FirstOrDefault(File.Exists);
        var img1 = Path.Combine(input, "img1");
        if (Directory.Exists(img1)) return (img1, gt);
        var video = Directory.GetFiles(input).Where(IsVideo).OrderBy(f => f, StringComparer.Ordinal).FirstOrDefault();
        return (video ?? input, gt);
    }

    /// <summary>
    /// Yields (index, key, image). For a video or image sequence the key is the MOT frame number (index + 1); for a
    /// folder of images it is the file name. The Mat is disposed after the caller moves on.
    /// </summary>
    public static IEnumerable<(int Index, string Key, string Name, Mat Image)> Read(string source, int maxFrames = int.MaxValue, int step = 1, IReadOnlySet<string>? only = null)
    {
        if (File.Exists(source) && IsImage(source))
        {
            using var img = Cv2.ImRead(source, ImreadModes.Color);
            if (img.Empty()) throw new InvalidDataException($"Cannot decode image {source}.");
            yield return (0, Path.GetFileName(source), Path.GetFileName(source), img);
            yield break;
        }

        if (Directory.Exists(source))
        {
            var files = Directory.GetFiles(source).Where(IsImage).Where(f => only is null || only.Contains(Path.GetFileName(f))).OrderBy(f => f, StringComparer.Ordinal).ToList();
            if (only is not null && files.Count == 0) throw new InvalidDataException($"None of the {only.Count} images named in the frame list is in {source}.");
            bool sequence = Path.GetFileName(source) == "img1";
            for (int i = 0, n = 0; i < files.Count && n < maxFrames; i += step, n++)
            {
                using var img = Cv2.ImRead(files[i], ImreadModes.Color);
                if (img.Empty()) throw new InvalidDataException($"Cannot decode image {files[i]}.");
                yield return (i, sequence ? (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) : Path.GetFileName(files[i]), Path.GetFileName(files[i]), img);
            }

            yield break;
        }

        if (!File.Exists(source)) throw new FileNotFoundException($"Input {source} does not exist.", source);
        using var capture = new VideoCapture(source);
        if (!capture.IsOpened()) throw new InvalidDataException($"Cannot open video {source}.");
        using var frame = new Mat();
        for (int i = 0, n = 0; n < maxFrames; i++)
        {
            if (!capture.Read(frame) || frame.Empty()) yield break;
            if (i % step != 0) continue;
            n++;
            yield return (i, (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), $"frame {i}", frame);
        }
    }

    /// <summary>
    /// The image names a frame list selects: a text file of names (one a line, '#' comments), or a CSV whose first
    /// column is the name and whose second is a group such as a room (<c>filename,room</c>, header optional), of which
    /// <paramref name="group"/> keeps one. This is how an evaluation keeps a held-out room apart from the tuning room.
    /// </summary>
    public static IReadOnlySet<string> ReadList(string path, string? group)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Frame list {path} does not exist.", path);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var groups = new HashSet<string>(StringComparer.Ordinal);
        int lineNo = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var fields = line.Split(',', StringSplitOptions.TrimEntries);
            if (lineNo == 1 && fields.Length > 1 && !IsImage(fields[0])) continue; // header
            if (group is not null)
            {
                if (fields.Length < 2) throw new FormatException($"Frame list {path} line {lineNo}: --room needs 'name,group' lines (this line has no group).");
                groups.Add(fields[1]);
                if (!string.Equals(fields[1], group, StringComparison.Ordinal)) continue;
            }

            names.Add(Path.GetFileName(fields[0]));
        }

        if (names.Count == 0)
        {
            throw new InvalidDataException(group is null
                ? $"Frame list {path} names no frames."
                : $"Frame list {path} has no frames of '{group}' (it has: {string.Join(", ", groups.Order(StringComparer.Ordinal))}).");
        }

        return names;
    }
}

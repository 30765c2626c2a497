using CinemaVision.Core.Datasets;
using CinemaVision.Core.Geometry;
using OpenCvSharp;

namespace CinemaVision.Tools.Datasets;

/// <summary>
/// The pixels behind an annotation set: a folder of images (found by file name, or by stem with any image
/// extension), one image file, or a video whose frames are the set's sequence frames (MOT frame n = video frame
/// n - 1). Sizes come from file headers; a video is read forward and reopened only to go back.
/// </summary>
public sealed class DatasetImages : IDisposable
{
    private static readonly string[] Extensions = [".jpg", ".jpeg", ".png", ".bmp", ".webp"];
    private readonly string _path;
    private readonly bool _video;
    private readonly Dictionary<string, string> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _byStem = new(StringComparer.Ordinal);
    private VideoCapture? _capture;
    private int _next;
    private readonly Mat _frame = new();

    private DatasetImages(string path)
    {
        _path = path;
        if (Directory.Exists(path))
        {
            foreach (var f in Directory.EnumerateFiles(path).Where(IsImage).Order(StringComparer.Ordinal))
            {
                _byName[System.IO.Path.GetFileName(f)] = f;
                _byStem.TryAdd(System.IO.Path.GetFileNameWithoutExtension(f), f);
            }
        }
        else if (File.Exists(path) && IsImage(path))
        {
            _byName[System.IO.Path.GetFileName(path)] = path;
            _byStem[System.IO.Path.GetFileNameWithoutExtension(path)] = path;
        }
        else if (File.Exists(path))
        {
            _video = true;
        }
        else
        {
            throw new FileNotFoundException($"Images {path} do not exist (expected a folder of images, an image or a video).", path);
        }
    }

    public static DatasetImages Open(string path) => new(path);

    public string Root => _path;

    public bool IsVideo => _video;

    /// <summary>Every image file of the folder (empty for a video).</summary>
    public IReadOnlyCollection<string> Files => _byName.Values;

    public static bool IsImage(string file) => Extensions.Contains(System.IO.Path.GetExtension(file).ToLowerInvariant());

    /// <summary>The file of an image, by its name or its stem; null when the folder has none (or the source is a video).</summary>
    public string? FileOf(AnnotatedImage image) => FileOf(image.FileName);

    public string? FileOf(string fileName)
    {
        if (_byName.TryGetValue(System.IO.Path.GetFileName(fileName), out var f)) return f;
        if (_byStem.Count == 1 && _byName.Count == 1 && !Directory.Exists(_path)) return _byName.Values.First();
        return _byStem.GetValueOrDefault(System.IO.Path.GetFileNameWithoutExtension(fileName));
    }

    /// <summary>An image's size from its header (or the video's frame size); null when it is not there.</summary>
    public SizeI? SizeOf(AnnotatedImage image)
    {
        if (_video)
        {
            OpenVideo();
            return new SizeI(_capture!.FrameWidth, _capture.FrameHeight);
        }

        return FileOf(image) is { } file ? ReadSize(file) : null;
    }

    /// <summary>The size of an image file from its header, else by decoding it.</summary>
    public static SizeI ReadSize(string file)
    {
        using (var stream = File.OpenRead(file))
        {
            var buffer = new byte[Math.Min(ImageHeader.PrefixLength, stream.Length)];
            stream.ReadExactly(buffer);
            if (ImageHeader.TryReadSize(buffer) is { IsEmpty: false } size) return size;
        }

        using var mat = Cv2.ImRead(file, ImreadModes.Unchanged);
        return mat.Empty() ? throw new InvalidDataException($"Cannot read image {file}.") : new SizeI(mat.Width, mat.Height);
    }

    /// <summary>
    /// The image's pixels (BGR). For a folder the caller owns the Mat; for a video the Mat is reused on the next
    /// call (clone it to keep it).
    /// </summary>
    public Mat Read(AnnotatedImage image, out bool callerOwns)
    {
        if (_video)
        {
            int wanted = (image.Frame ?? MotFormat.FrameOf(image, 0)) - 1;
            OpenVideo();
            if (wanted < _next)
            {
                _capture!.Dispose();
                _capture = null;
                OpenVideo();
            }

            while (_next <= wanted)
            {
                if (!_capture!.Read(_frame) || _frame.Empty()) throw new InvalidDataException($"Video {_path} has no frame {wanted + 1} (it ended after {_next}).");
                _next++;
            }

            callerOwns = false;
            return _frame;
        }

        var file = FileOf(image) ?? throw new FileNotFoundException($"Image {image.FileName} is not in {_path}.", image.FileName);
        var mat = Cv2.ImRead(file, ImreadModes.Color);
        if (mat.Empty())
        {
            mat.Dispose();
            throw new InvalidDataException($"Cannot decode image {file}.");
        }

        callerOwns = true;
        return mat;
    }

    /// <summary>Puts the image at <paramref name="destination"/>: copied as is when its bytes are already a file of that type, else encoded.</summary>
    public void CopyTo(AnnotatedImage image, string destination)
    {
        if (!_video && FileOf(image) is { } file && string.Equals(System.IO.Path.GetExtension(file), System.IO.Path.GetExtension(destination), StringComparison.OrdinalIgnoreCase))
        {
            File.Copy(file, destination, overwrite: true);
            return;
        }

        var mat = Read(image, out bool owns);
        try
        {
            if (!Cv2.ImWrite(destination, mat, [(int)ImwriteFlags.JpegQuality, 95])) throw new IOException($"Cannot write image {destination}.");
        }
        finally
        {
            if (owns) mat.Dispose();
        }
    }

    private void OpenVideo()
    {
        if (_capture is not null) return;
        _capture = new VideoCapture(_path);
        _next = 0;
        if (!_capture.IsOpened()) throw new InvalidDataException($"Cannot open video {_path}.");
    }

    public void Dispose()
    {
        _capture?.Dispose();
        _frame.Dispose();
    }
}

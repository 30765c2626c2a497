using System.Globalization;
using System.Text;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Datasets;

/// <summary>What a MOT sequence's <c>seqinfo.ini</c> says: frame size, rate, length and image naming.</summary>
public sealed record MotSequenceInfo(string Name, SizeI FrameSize, double FrameRate, int Length, string ImageFolder = "img1", string ImageExtension = ".jpg");

/// <summary>
/// MOT Challenge ground truth: <c>frame,id,left,top,width,height,flag[,x,y,z]</c>, one box a line, frames numbered
/// from 1; flag 0 marks an ignore region. Boxes are kept as given (left/top/width/height in pixels, no 1-based
/// shift). MOT holds one class and no image names: frame n is image <c>{n:D6}{ext}</c> of the sequence.
/// </summary>
public static class MotFormat
{
    public static AnnotationSet Read(string text, string fileName, string label = "person", MotSequenceInfo? info = null)
    {
        var frames = new SortedDictionary<int, List<AnnotationBox>>();
        int lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var f = line.Split(',');
            if (f.Length < 6) throw AnnotationFormatException.AtLine(fileName, lineNo, $"expected at least 6 comma-separated fields (frame,id,left,top,width,height), got {f.Length}.");
            int frame = Int(f[0], fileName, lineNo, "frame");
            if (frame < 1) throw AnnotationFormatException.AtLine(fileName, lineNo, $"frame numbers start at 1 (was {frame}).");
            int id = Int(f[1], fileName, lineNo, "id");
            var box = new BoxF(Float(f[2], fileName, lineNo, "left"), Float(f[3], fileName, lineNo, "top"), Float(f[4], fileName, lineNo, "width"), Float(f[5], fileName, lineNo, "height"));
            if (box.Width < 0 || box.Height < 0) throw AnnotationFormatException.AtLine(fileName, lineNo, "width and height must not be negative.");
            bool ignore = f.Length > 6 && Float(f[6], fileName, lineNo, "flag") == 0;
            if (!frames.TryGetValue(frame, out var list)) frames[frame] = list = [];
            list.Add(new AnnotationBox(box, label, ignore, id));
        }

        var ext = info?.ImageExtension ?? ".jpg";
        var size = info?.FrameSize ?? default;
        return AnnotationSet.Create(frames.Select(kv => new AnnotatedImage(FrameFileName(kv.Key, ext), size, kv.Value) { Frame = kv.Key }), [label]);
    }

    /// <summary>The image file name of frame <paramref name="frame"/> (1-based) in a MOT sequence folder.</summary>
    public static string FrameFileName(int frame, string extension = ".jpg") => frame.ToString("D6", CultureInfo.InvariantCulture) + extension;

    /// <summary>
    /// Writes MOT15 lines (<c>frame,id,left,top,width,height,flag,-1,-1,-1</c>). An image's frame is its
    /// <see cref="AnnotatedImage.Frame"/>, else the number in its file name, else its position in the set (from 1).
    /// MOT holds one class: when the set has several, <paramref name="notes"/> says so.
    /// </summary>
    public static string Write(AnnotationSet set, ICollection<string>? notes = null)
    {
        var used = set.Images.SelectMany(i => i.Boxes).Select(b => b.Label).Distinct(StringComparer.Ordinal).ToList();
        if (used.Count > 1) notes?.Add($"MOT holds one class: boxes of {string.Join(", ", used)} are written alike.");
        var sb = new StringBuilder();
        var frames = new HashSet<int>();
        for (int i = 0; i < set.Images.Count; i++)
        {
            var image = set.Images[i];
            int frame = FrameOf(image, i);
            if (!frames.Add(frame)) throw new FormatException($"Image {image.FileName}: frame {frame} is given twice; MOT numbers each frame once.");
            foreach (var b in image.Boxes)
            {
                sb.Append(Numbers.I(frame)).Append(',').Append(Numbers.I(b.TrackId)).Append(',')
                    .Append(Numbers.F(b.Box.X)).Append(',').Append(Numbers.F(b.Box.Y)).Append(',')
                    .Append(Numbers.F(b.Box.Width)).Append(',').Append(Numbers.F(b.Box.Height)).Append(',')
                    .Append(b.Ignore ? '0' : '1').Append(",-1,-1,-1\n");
            }
        }

        return sb.ToString();
    }

    /// <summary>The frame number of an image: declared, else the digits of its file name, else its 1-based position.</summary>
    public static int FrameOf(AnnotatedImage image, int index)
    {
        if (image.Frame is { } f) return f;
        var digits = new string(Path.GetFileNameWithoutExtension(image.FileName).Reverse().TakeWhile(char.IsAsciiDigit).Reverse().ToArray());
        return digits.Length is > 0 and < 10 && int.Parse(digits, CultureInfo.InvariantCulture) > 0 ? int.Parse(digits, CultureInfo.InvariantCulture) : index + 1;
    }

    /// <summary>Reads a MOT <c>seqinfo.ini</c>; a missing key or a bad number names the file and line.</summary>
    public static MotSequenceInfo ReadSequenceInfo(string text, string fileName)
    {
        var values = new Dictionary<string, (string Value, int Line)>(StringComparer.OrdinalIgnoreCase);
        int lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '[' or ';' or '#') continue;
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw AnnotationFormatException.AtLine(fileName, lineNo, $"expected key=value, got '{line}'.");
            values[line[..eq].Trim()] = (line[(eq + 1)..].Trim(), lineNo);
        }

        int IntOf(string key)
        {
            if (!values.TryGetValue(key, out var v)) throw new AnnotationFormatException(fileName, "[Sequence]", $"has no {key}.");
            return Numbers.TryInt(v.Value, out var n) ? n : throw AnnotationFormatException.AtLine(fileName, v.Line, $"{key} is not a whole number: '{v.Value}'.");
        }

        string StringOf(string key, string fallback) => values.TryGetValue(key, out var v) ? v.Value : fallback;
        double rate = values.TryGetValue("frameRate", out var r) && double.TryParse(r.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var fr) ? fr : 0;
        return new MotSequenceInfo(StringOf("name", ""), new SizeI(IntOf("imWidth"), IntOf("imHeight")), rate, values.ContainsKey("seqLength") ? IntOf("seqLength") : 0, StringOf("imDir", "img1"), StringOf("imExt", ".jpg"));
    }

    private static int Int(string s, string file, int line, string field) =>
        Numbers.TryInt(s, out var v) ? v : throw AnnotationFormatException.AtLine(file, line, $"field '{field}' is not an integer: '{s}'.");

    private static float Float(string s, string file, int line, string field) =>
        Numbers.TryFloat(s, out var v) ? v : throw AnnotationFormatException.AtLine(file, line, $"field '{field}' is not a number: '{s}'.");
}

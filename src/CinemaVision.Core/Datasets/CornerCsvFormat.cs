using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Datasets;

/// <summary>
/// Corner CSV for one image: <c>x1,y1,x2,y2[,...]</c> in pixels, one box a line, '#' comments, an optional header
/// line. The simplest thing a person writes by hand (the Solvay faces are kept this way).
/// </summary>
public static class CornerCsvFormat
{
    public static List<AnnotationBox> Read(string text, string fileName, string label)
    {
        var boxes = new List<AnnotationBox>();
        int lineNo = 0;
        bool first = true;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var f = line.Split(',');
            if (first && !Numbers.TryFloat(f[0], out _))
            {
                first = false;
                continue; // a header line
            }

            first = false;
            if (f.Length < 4) throw AnnotationFormatException.AtLine(fileName, lineNo, "expected x1,y1,x2,y2.");
            float x1 = Float(f[0], fileName, lineNo, "x1"), y1 = Float(f[1], fileName, lineNo, "y1"), x2 = Float(f[2], fileName, lineNo, "x2"), y2 = Float(f[3], fileName, lineNo, "y2");
            if (x2 < x1 || y2 < y1) throw AnnotationFormatException.AtLine(fileName, lineNo, "x2 < x1 or y2 < y1.");
            boxes.Add(new AnnotationBox(BoxF.FromLtrb(x1, y1, x2, y2), label));
        }

        return boxes;
    }

    private static float Float(string s, string file, int line, string field) =>
        Numbers.TryFloat(s, out var v) ? v : throw AnnotationFormatException.AtLine(file, line, $"field '{field}' is not a number: '{s}'.");
}

using CinemaVision.Core.Auditoriums;

namespace CinemaVision.Core.Tests.Audience;

public class MaskFileTests
{
    private const string File = """
        { "siteId": "s", "auditoriumId": "a", "cameras": [ { "id": "cam-1", "reference": { "width": 1920, "height": 1080 },
          "seats": [ { "id": "A1", "polygon": [[100,100],[160,100],[160,200],[100,200]] } ],
          "masks": [
            { "id": "clock", "kind": "text", "polygon": [[20,20],[600,20],[600,70],[20,70]] },
            { "id": "screen", "kind": "screen", "polygon": [[0,0],[1920,0],[1920,10]] } ] } ] }
        """;

    [Fact]
    public void Parse_Masks_KindsAndPolygons_RoundTrip()
    {
        var auditorium = AuditoriumFile.Parse(File).GetOrThrow();
        var masks = auditorium.Cameras[0].Masks;

        Assert.Equal(["clock", "screen"], masks.Select(m => m.Id));
        Assert.Equal([MaskKind.Text, MaskKind.Screen], masks.Select(m => m.Kind));

        var again = AuditoriumFile.Parse(AuditoriumFile.Serialize(auditorium)).GetOrThrow();
        Assert.Equal(masks.Select(m => m.Polygon.Count), again.Cameras[0].Masks.Select(m => m.Polygon.Count));
        Assert.Equal(MaskKind.Text, again.Cameras[0].Masks[0].Kind);
    }

    [Fact]
    public void Parse_BadMasks_EachProblemWithItsPath()
    {
        var bad = File.Replace("\"kind\": \"screen\"", "\"kind\": \"curtain\"", StringComparison.Ordinal)
            .Replace("\"id\": \"screen\"", "\"id\": \"clock\"", StringComparison.Ordinal)
            .Replace("[[20,20],[600,20],[600,70],[20,70]]", "[[20,20],[600,20]]", StringComparison.Ordinal);

        var problems = AuditoriumFile.Parse(bad).Problems.Select(p => p.ToString()).ToList();

        Assert.Contains(problems, p => p.StartsWith("cameras[0].masks[1].kind", StringComparison.Ordinal) && p.Contains("curtain", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("cameras[0].masks[1].id", StringComparison.Ordinal) && p.Contains("duplicate", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("cameras[0].masks[0].polygon", StringComparison.Ordinal));
    }

    [Fact]
    public void ScaledTo_Substream_ScalesMasksWithTheSeats()
    {
        var camera = AuditoriumFile.Parse(File).GetOrThrow().Cameras[0].ScaledTo(new(960, 540));
        Assert.Equal(300, camera.Masks[0].Polygon[1].X, 1);
        Assert.Equal(35, camera.Masks[0].Polygon[2].Y, 1);
    }
}

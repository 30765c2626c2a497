using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Tests.Auditoriums;

public class AuditoriumFileTests
{
    private const string Valid = """
        { "siteId": "site-1", "auditoriumId": "aud-3",
          "cameras": [ { "id": "cam-a", "reference": { "width": 1920, "height": 1080 },
            "seats": [ { "id": "A1", "polygon": [[100,500],[160,500],[160,560],[100,560]] },
                       { "id": "A2", "polygon": [[160,500],[220,500],[220,560],[160,560]] } ],
            "zones": [ { "id": "aisle-left", "kind": "aisle", "polygon": [[0,0],[90,0],[90,1080],[0,1080]] } ] } ] }
        """;

    [Fact]
    public void Parse_ValidFile_GivesTheModel()
    {
        var result = AuditoriumFile.Parse(Valid);
        Assert.True(result.IsValid, string.Join("; ", result.Problems));
        var cam = result.Auditorium!.Cameras.Single();
        Assert.Equal(2, cam.Seats.Count);
        Assert.Equal("A", cam.Seats[0].Row);
        Assert.Equal(2, cam.Seats[1].Number);
        Assert.Equal(ZoneKind.Aisle, cam.Zones[0].Kind);
    }

    [Fact]
    public void Parse_MalformedJson_NamesLineAndPosition()
    {
        var result = AuditoriumFile.Parse("{\n  \"siteId\": \"x\",\n  \"cameras\": [ { \"id\": }\n}");
        var problem = Assert.Single(result.Problems);
        Assert.Contains("line 3", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ManyProblems_ReportsEveryOneWithItsLocation()
    {
        const string json = """
            { "siteId": "s", "auditoriumId": "a",
              "cameras": [ { "id": "c", "reference": { "width": 640, "height": 480 },
                "seats": [ { "id": "B1", "polygon": [[10,10],[50,10],[50,50],[10,50]] },
                           { "id": "B1", "polygon": [[60,10],[100,10],[100,50],[60,50]] },
                           { "id": "B3", "polygon": [[600,400],[700,400],[700,470],[600,470]] },
                           { "id": "B4", "polygon": [[200,200],[260,260],[260,200],[200,260]] },
                           { "id": "B5", "polygon": [[12,12],[48,12],[48,48],[12,48]] } ],
                "zones": [ { "id": "z", "kind": "balcony", "polygon": [[0,0],[10,0],[10,10]] } ] } ] }
            """;
        var problems = AuditoriumFile.Parse(json).Problems;
        var text = string.Join("\n", problems);

        Assert.Contains(problems, p => p.Path == "cameras[0].seats[1].id" && p.Message.Contains("duplicate seat id 'B1'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Path.StartsWith("cameras[0].seats[2].polygon", StringComparison.Ordinal) && p.Message.Contains("outside", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Path == "cameras[0].seats[3].polygon" && p.Message.Contains("crosses itself", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Path == "cameras[0].seats[4].polygon" && p.Message.Contains("overlaps seat 'B1'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Path == "cameras[0].zones[0].kind" && p.Message.Contains("balcony", StringComparison.Ordinal));
        Assert.True(problems.Count >= 5, text);
    }

    [Fact]
    public void Parse_MissingFields_NamesThem()
    {
        var problems = AuditoriumFile.Parse("""{ "cameras": [ { "seats": [ { "polygon": [[0,0],[1,"x"]] } ] } ] }""").Problems;
        Assert.Contains(problems, p => p.Path == "siteId");
        Assert.Contains(problems, p => p.Path == "cameras[0].reference");
        Assert.Contains(problems, p => p.Path == "cameras[0].seats[0].id");
        Assert.Contains(problems, p => p.Path == "cameras[0].seats[0].polygon[1]");
    }

    [Fact]
    public void Serialize_ThenParse_RoundTrips()
    {
        var original = AuditoriumFile.Parse(Valid).GetOrThrow();
        var again = AuditoriumFile.Parse(AuditoriumFile.Serialize(original)).GetOrThrow();
        Assert.Equal(original.Cameras[0].Seats.Select(s => s.Id), again.Cameras[0].Seats.Select(s => s.Id));
        Assert.Equal(original.Cameras[0].Seats[1].Polygon, again.Cameras[0].Seats[1].Polygon);
        Assert.Equal(ZoneKind.Aisle, again.Cameras[0].Zones[0].Kind);
    }

    [Fact]
    public void Parse_MaskZone_IsKeptAndWrittenBack()
    {
        var withMask = Valid.Replace("\"kind\": \"aisle\"", "\"kind\": \"mask\"", StringComparison.Ordinal);

        var parsed = AuditoriumFile.Parse(withMask);
        var again = AuditoriumFile.Parse(AuditoriumFile.Serialize(parsed.Auditorium!));

        Assert.True(parsed.IsValid, string.Join("; ", parsed.Problems));
        Assert.Equal(ZoneKind.Mask, parsed.Auditorium!.Cameras[0].Zones[0].Kind);
        Assert.Equal(ZoneKind.Mask, again.Auditorium!.Cameras[0].Zones[0].Kind);
        Assert.Contains("\"mask\"", AuditoriumFile.Serialize(parsed.Auditorium), StringComparison.Ordinal);
    }

    [Fact]
    public void SeatGrid_FromRowEndPoints_GivesValidNonOverlappingSeats()
    {
        var back = new SeatRowSpec("K", new PointF(400, 200), new PointF(1500, 220), 20, 30, 30);
        var front = new SeatRowSpec("A", new PointF(150, 900), new PointF(1750, 930), 16, 90, 90);
        var rows = SeatGridGenerator.Interpolate(back, front, ["K", "J", "H", "G", "F", "E", "D", "C", "B", "A"]);
        var seats = SeatGridGenerator.Generate(rows);
        var auditorium = new Auditorium
        {
            SiteId = "s",
            AuditoriumId = "a",
            Cameras = [new CameraView { Id = "c", Reference = new ReferenceFrame(1920, 1080), Seats = seats }],
        };

        Assert.Equal(180, seats.Count);
        Assert.Contains(seats, s => s.Id == "K20");
        Assert.Contains(seats, s => s.Id == "A1");
        Assert.Empty(AuditoriumValidator.Validate(auditorium));
        // Seats at the back are smaller than at the front.
        Assert.True(seats.First(s => s.Id == "K1").Bounds.Height < seats.First(s => s.Id == "A1").Bounds.Height);
    }

    [Fact]
    public void SeatGrid_RightToLeftNumbering_StartsAtTheRight()
    {
        var seats = SeatGridGenerator.Generate([new SeatRowSpec("C", new PointF(0, 100), new PointF(300, 100), 4, 40, 40, FirstNumber: 1, NumberRightToLeft: true)]);
        Assert.Equal("C4", seats[0].Id);
        Assert.Equal("C1", seats[^1].Id);
    }

    [Fact]
    public void Polygons_IntersectionArea_OfOverlappingSquares()
    {
        PointF[] a = [new(0, 0), new(10, 0), new(10, 10), new(0, 10)];
        PointF[] b = [new(5, 5), new(15, 5), new(15, 15), new(5, 15)];
        Assert.Equal(25, Polygons.IntersectionArea(a, b), 3);
        Assert.True(Polygons.Contains(a, new PointF(5, 5)));
        Assert.False(Polygons.IsSelfIntersecting(a));
        Assert.True(Polygons.IsSelfIntersecting([new(0, 0), new(10, 10), new(10, 0), new(0, 10)]));
    }
}

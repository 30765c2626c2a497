using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Pipeline;

namespace CinemaVision.Core.Auditoriums;

/// <summary>One problem in an auditorium file, with where it is (a JSON path such as <c>cameras[0].seats[12].polygon</c>).</summary>
public sealed record ConfigProblem(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}

/// <summary>The outcome of reading an auditorium file: the model when it is usable, and every problem found.</summary>
public sealed record AuditoriumReadResult(Auditorium? Auditorium, IReadOnlyList<ConfigProblem> Problems)
{
    public bool IsValid => Auditorium is not null && Problems.Count == 0;

    public Auditorium GetOrThrow() => IsValid
        ? Auditorium!
        : throw new AuditoriumConfigException(Problems);
}

public sealed class AuditoriumConfigException(IReadOnlyList<ConfigProblem> problems)
    : Exception($"The auditorium file has {problems.Count} problem(s):{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", problems))
{
    public IReadOnlyList<ConfigProblem> Problems { get; } = problems;
}

/// <summary>
/// Reads and writes auditorium files. Reading reports every problem at once (structure and geometry), each with
/// its location, so an installer fixes the file in one pass.
/// </summary>
public static class AuditoriumFile
{
    public const string ZoneKinds = "seating, aisle, exit, stage, screen, staff-only, mask";

    private static readonly JsonSerializerOptions WriteOptions = new() { WriteIndented = true };

    public static AuditoriumReadResult Parse(string json, AuditoriumValidationOptions? validation = null)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            return new(null, [new ConfigProblem("$", $"not valid JSON at line {(ex.LineNumber ?? 0) + 1}, position {(ex.BytePositionInLine ?? 0) + 1}: {FirstSentence(ex.Message)}")]);
        }

        var problems = new List<ConfigProblem>();
        if (root is not JsonObject obj)
        {
            return new(null, [new ConfigProblem("$", "the file must hold a JSON object")]);
        }

        var site = RequiredString(obj, "siteId", "$", problems);
        var auditoriumId = RequiredString(obj, "auditoriumId", "$", problems);
        var cameras = new List<CameraView>();
        if (obj["cameras"] is JsonArray cameraArray)
        {
            for (int c = 0; c < cameraArray.Count; c++)
            {
                var path = $"cameras[{c}]";
                if (cameraArray[c] is not JsonObject cam)
                {
                    problems.Add(new(path, "must be an object"));
                    continue;
                }

                cameras.Add(ReadCamera(cam, path, problems));
            }
        }
        else
        {
            problems.Add(new("cameras", "is required and must be an array of cameras"));
        }

        var auditorium = new Auditorium
        {
            SchemaVersion = (obj["schemaVersion"] as JsonValue)?.ToString() ?? "1",
            SiteId = site ?? "",
            AuditoriumId = auditoriumId ?? "",
            Name = (obj["name"] as JsonValue)?.ToString(),
            Cameras = cameras,
            Pipeline = PipelineSettings.Read(obj["pipeline"], problems),
        };
        problems.AddRange(AuditoriumValidator.Validate(auditorium, validation));
        return new(auditorium, problems);
    }

    public static string Serialize(Auditorium auditorium)
    {
        static JsonArray Poly(IReadOnlyList<PointF> polygon) => new([.. polygon.Select(p => (JsonNode)new JsonArray(Math.Round(p.X, 1), Math.Round(p.Y, 1)))]);
        var root = new JsonObject
        {
            ["$schema"] = "../schemas/auditorium.schema.json",
            ["schemaVersion"] = auditorium.SchemaVersion,
            ["siteId"] = auditorium.SiteId,
            ["auditoriumId"] = auditorium.AuditoriumId,
            ["name"] = auditorium.Name,
            ["cameras"] = new JsonArray([.. auditorium.Cameras.Select(c => (JsonNode)new JsonObject
            {
                ["id"] = c.Id,
                ["reference"] = new JsonObject { ["width"] = c.Reference.Width, ["height"] = c.Reference.Height, ["file"] = c.Reference.File },
                ["perspective"] = c.Perspective is null ? null : new JsonArray([.. c.Perspective.Select(p => (JsonNode)new JsonObject { ["row"] = p.Row, ["height"] = p.Height })]),
                ["seats"] = new JsonArray([.. c.Seats.Select(s => (JsonNode)new JsonObject { ["id"] = s.Id, ["row"] = s.Row, ["number"] = s.Number, ["polygon"] = Poly(s.Polygon) })]),
                ["zones"] = new JsonArray([.. c.Zones.Select(z => (JsonNode)new JsonObject { ["id"] = z.Id, ["kind"] = KindName(z.Kind), ["name"] = z.Name, ["polygon"] = Poly(z.Polygon) })]),
                ["masks"] = c.Masks.Count == 0 ? null : new JsonArray([.. c.Masks.Select(m => (JsonNode)new JsonObject { ["id"] = m.Id, ["kind"] = MaskKindName(m.Kind), ["polygon"] = Poly(m.Polygon) })]),
            })]),
        };
        if (auditorium.Pipeline.ToJson() is { } pipeline) root["pipeline"] = pipeline;
        return root.ToJsonString(WriteOptions);
    }

    public static string KindName(ZoneKind kind) => kind switch
    {
        ZoneKind.StaffOnly => "staff-only",
        _ => kind.ToString().ToLowerInvariant(),
    };

    public const string MaskKinds = "text, screen, mirror, other";

    public static string MaskKindName(MaskKind kind) => kind.ToString().ToLowerInvariant();

    public static bool TryParseMaskKind(string? value, out MaskKind kind)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case "text": kind = MaskKind.Text; return true;
            case "screen": kind = MaskKind.Screen; return true;
            case "mirror": kind = MaskKind.Mirror; return true;
            case "other": kind = MaskKind.Other; return true;
            default: kind = default; return false;
        }
    }

    public static bool TryParseKind(string? value, out ZoneKind kind)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case "seating": kind = ZoneKind.Seating; return true;
            case "aisle": kind = ZoneKind.Aisle; return true;
            case "exit": kind = ZoneKind.Exit; return true;
            case "stage": kind = ZoneKind.Stage; return true;
            case "screen": kind = ZoneKind.Screen; return true;
            case "staff-only" or "staffonly" or "staff_only": kind = ZoneKind.StaffOnly; return true;
            case "mask": kind = ZoneKind.Mask; return true;
            default: kind = default; return false;
        }
    }

    private static CameraView ReadCamera(JsonObject cam, string path, List<ConfigProblem> problems)
    {
        var id = RequiredString(cam, "id", path, problems) ?? "";
        int width = 0, height = 0;
        string? file = null;
        if (cam["reference"] is JsonObject reference)
        {
            width = RequiredInt(reference, "width", $"{path}.reference", problems);
            height = RequiredInt(reference, "height", $"{path}.reference", problems);
            file = (reference["file"] as JsonValue)?.ToString();
            if (width <= 0 || height <= 0) problems.Add(new($"{path}.reference", $"width and height must be positive (were {width}x{height})"));
        }
        else
        {
            problems.Add(new($"{path}.reference", "is required: the size of the frame the seat map was drawn on"));
        }

        var seats = new List<Seat>();
        if (cam["seats"] is JsonArray seatArray)
        {
            for (int s = 0; s < seatArray.Count; s++)
            {
                var sp = $"{path}.seats[{s}]";
                if (seatArray[s] is not JsonObject seat)
                {
                    problems.Add(new(sp, "must be an object"));
                    continue;
                }

                var seatId = RequiredString(seat, "id", sp, problems) ?? "";
                var row = (seat["row"] as JsonValue)?.ToString() ?? new string(seatId.TakeWhile(char.IsLetter).ToArray());
                int number = seat["number"] is JsonValue nv && nv.TryGetValue<int>(out var n) ? n
                    : int.TryParse(new string(seatId.SkipWhile(char.IsLetter).ToArray()), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
                seats.Add(new Seat(seatId, row, number, ReadPolygon(seat, $"{sp}.polygon", problems)));
            }
        }

        var zones = new List<Zone>();
        if (cam["zones"] is JsonArray zoneArray)
        {
            for (int z = 0; z < zoneArray.Count; z++)
            {
                var zp = $"{path}.zones[{z}]";
                if (zoneArray[z] is not JsonObject zone)
                {
                    problems.Add(new(zp, "must be an object"));
                    continue;
                }

                var zoneId = RequiredString(zone, "id", zp, problems) ?? "";
                var kindText = (zone["kind"] as JsonValue)?.ToString();
                if (!TryParseKind(kindText, out var kind)) problems.Add(new($"{zp}.kind", $"unknown zone kind '{kindText}' (known: {ZoneKinds})"));
                zones.Add(new Zone(zoneId, kind, ReadPolygon(zone, $"{zp}.polygon", problems), (zone["name"] as JsonValue)?.ToString()));
            }
        }

        List<PerspectiveReference>? perspective = null;
        if (cam["perspective"] is JsonArray pa)
        {
            perspective = [];
            for (int i = 0; i < pa.Count; i++)
            {
                if (pa[i] is JsonObject po && po["row"] is JsonValue r && r.TryGetValue<float>(out var row) && po["height"] is JsonValue h && h.TryGetValue<float>(out var ht))
                {
                    perspective.Add(new PerspectiveReference(row, ht));
                }
                else
                {
                    problems.Add(new($"{path}.perspective[{i}]", "must be {\"row\": number, \"height\": number}"));
                }
            }
        }

        var masks = new List<Mask>();
        if (cam["masks"] is JsonArray maskArray)
        {
            for (int m = 0; m < maskArray.Count; m++)
            {
                var mp = $"{path}.masks[{m}]";
                if (maskArray[m] is not JsonObject mask)
                {
                    problems.Add(new(mp, "must be an object"));
                    continue;
                }

                var maskId = RequiredString(mask, "id", mp, problems) ?? "";
                var kindText = (mask["kind"] as JsonValue)?.ToString() ?? "other";
                if (!TryParseMaskKind(kindText, out var kind)) problems.Add(new($"{mp}.kind", $"unknown mask kind '{kindText}' (known: {MaskKinds})"));
                masks.Add(new Mask(maskId, kind, ReadPolygon(mask, $"{mp}.polygon", problems)));
            }
        }
        else if (cam["masks"] is { } notArray)
        {
            problems.Add(new($"{path}.masks", $"must be an array of masks (was {notArray.GetValueKind().ToString().ToLowerInvariant()})"));
        }

        return new CameraView { Id = id, Reference = new ReferenceFrame(width, height, file), Seats = seats, Zones = zones, Perspective = perspective, Masks = masks };
    }

    private static List<PointF> ReadPolygon(JsonObject owner, string path, List<ConfigProblem> problems)
    {
        var points = new List<PointF>();
        if (owner["polygon"] is not JsonArray array)
        {
            problems.Add(new(path, "is required: an array of [x, y] points"));
            return points;
        }

        for (int i = 0; i < array.Count; i++)
        {
            if (array[i] is JsonArray { Count: 2 } xy && xy[0] is JsonValue xv && xv.TryGetValue<float>(out var x) && xy[1] is JsonValue yv && yv.TryGetValue<float>(out var y))
            {
                points.Add(new PointF(x, y));
            }
            else
            {
                problems.Add(new($"{path}[{i}]", "must be a point [x, y] of two numbers"));
            }
        }

        return points;
    }

    private static string? RequiredString(JsonObject obj, string name, string path, List<ConfigProblem> problems)
    {
        if (obj[name] is JsonValue v && v.TryGetValue<string>(out var s) && !string.IsNullOrWhiteSpace(s)) return s;
        problems.Add(new(path == "$" ? name : $"{path}.{name}", "is required and must be a non-empty string"));
        return null;
    }

    private static int RequiredInt(JsonObject obj, string name, string path, List<ConfigProblem> problems)
    {
        if (obj[name] is JsonValue v && v.TryGetValue<int>(out var i)) return i;
        problems.Add(new($"{path}.{name}", "is required and must be a whole number"));
        return 0;
    }

    private static string FirstSentence(string message)
    {
        int dot = message.IndexOf(". ", StringComparison.Ordinal);
        return dot > 0 ? message[..dot] : message;
    }
}

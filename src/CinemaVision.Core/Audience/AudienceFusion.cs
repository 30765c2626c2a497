using CinemaVision.Core.Detections;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Tiling;

namespace CinemaVision.Core.Audience;

/// <summary>What a head candidate was seen as.</summary>
public enum HeadEvidence
{
    /// <summary>A head model's box.</summary>
    Head = 0,

    /// <summary>A face: the head around it.</summary>
    Face = 1,

    /// <summary>A person box: the head region at its top.</summary>
    Person = 2,
}

/// <summary>
/// One piece of evidence for a head. <see cref="ReferenceChange"/> is how much the candidate's patch differs from the
/// empty-hall reference (0 identical .. 1 unrelated; NaN when there is no reference), measured on pixels by Vision.
/// </summary>
public readonly record struct HeadCandidate(Detection Detection, HeadEvidence Evidence, float ReferenceChange = float.NaN);

/// <summary>What the fusion knows about the scene: the head-size perspective, seat outlines, masks, and the static detections of the empty hall.</summary>
public sealed record AudienceScene
{
    public static AudienceScene Empty { get; } = new();

    /// <summary>Expected head height by image row (from the seat map, or fitted to the detections); null = unknown.</summary>
    public PerspectiveModel? Perspective { get; init; }

    /// <summary>Seat outlines: inside one, the seat is a prior and weaker evidence counts. Empty = no seat map.</summary>
    public IReadOnlyList<IReadOnlyList<PointF>> Seats { get; init; } = [];

    /// <summary>Regions ignored everywhere (burnt-in clock and camera name, a screen, a mirror).</summary>
    public IReadOnlyList<IReadOnlyList<PointF>> Masks { get; init; } = [];

    /// <summary>Heads the detector finds on the empty-hall reference (aligned to this frame): static objects.</summary>
    public IReadOnlyList<BoxF> ReferenceHeads { get; init; } = [];
}

/// <summary>One counted person: the head box, the best evidence's score and kind, and how many candidates agreed.</summary>
public readonly record struct FusedHead(BoxF Box, float Score, HeadEvidence Evidence, int Support)
{
    public Detection ToDetection() => new(Box, (int)Evidence, Score, ObjectClass.Head);
}

/// <summary>Why a candidate did not become a counted head (for debugging output and tests).</summary>
public enum FusionDrop
{
    Kept = 0,
    Masked = 1,
    WrongSize = 2,
    BelowThreshold = 3,
    Static = 4,
    Duplicate = 5,
}

/// <summary>
/// One person, one count: fuses head, face and person evidence into heads (pure). A face becomes the head around it;
/// a person box implies a head region at its top; candidates whose centres nearly coincide are one head. Thresholds
/// depend on where a candidate is: inside a seat outline the seat is a prior and weaker evidence counts; outside seats
/// (with a seat map) the strict threshold stays; with no seat map, the picture is taken as seating. Where the perspective is known, a
/// head whose size does not fit its row is dropped (a texture seen as a huge head, a fleck as a tiny one), and the
/// threshold can be lowered for the small, blurred heads at the back. Static objects, seen as heads on the
/// empty-hall reference too and not changed since, are suppressed. Masked regions count nowhere.
/// </summary>
public static class AudienceFusion
{
    /// <summary>The whole head around a face box (hair above, a little wider).</summary>
    public static BoxF HeadFromFace(in BoxF face) =>
        BoxF.FromLtrb(face.Left - (0.1f * face.Width), face.Top - (0.25f * face.Height), face.Right + (0.1f * face.Width), face.Bottom + (0.05f * face.Height));

    /// <summary>The head region a person box implies: centred at its top, as wide as the expected head (or a fifth of the box height when unknown).</summary>
    public static BoxF HeadOfPerson(in BoxF person, float? expectedHead)
    {
        float w = MathF.Min(person.Width * 0.6f, expectedHead ?? (person.Height * 0.22f));
        return BoxF.FromCenter(person.CenterX, person.Top + (0.55f * w), w, 1.1f * w);
    }

    /// <summary>The head-model score that counts at a point: the seat prior inside a seat (and everywhere without a seat map), strict in the aisles; lower where heads are expected small.</summary>
    public static float ThresholdAt(PointF centre, AudienceScene scene, AudienceOptions options)
    {
        float t;
        // Without a seat map the whole picture is taken as seating (an audience is what the camera is for).
        t = scene.Seats.Count == 0 || InAny(scene.Seats, centre) ? options.SeatHeadScore : options.AisleHeadScore;
        if (options.SmallHeadScoreDrop > 0 && scene.Perspective is { } p)
        {
            float expected = p.ExpectedHeightAt(centre.Y);
            float smallness = Math.Clamp((options.SmallHeadPixels - expected) / options.SmallHeadPixels, 0, 1);
            t -= options.SmallHeadScoreDrop * smallness;
        }

        return MathF.Max(0.01f, t);
    }

    public static List<FusedHead> Fuse(IReadOnlyList<HeadCandidate> candidates, AudienceScene scene, AudienceOptions options, List<FusionDrop>? trace = null)
    {
        trace?.Clear();
        var survivors = new List<(BoxF Box, float Score, HeadEvidence Evidence, int Index)>(candidates.Count);
        for (int i = 0; i < candidates.Count; i++)
        {
            var c = candidates[i];
            var drop = Screen(c, scene, options, out var box);
            trace?.Add(drop);
            if (drop == FusionDrop.Kept) survivors.Add((box, c.Detection.Score, c.Evidence, i));
        }

        // Head-model evidence first (its boxes are the tightest), then faces, then person-implied heads; each by score.
        survivors.Sort((a, b) => a.Evidence != b.Evidence ? a.Evidence.CompareTo(b.Evidence) : b.Score.CompareTo(a.Score));
        var kept = new List<FusedHead>();
        foreach (var s in survivors)
        {
            int twin = -1;
            for (int k = 0; k < kept.Count; k++)
            {
                if (SameHead(kept[k].Box, s.Box, s.Evidence, options.DuplicateDistance)) { twin = k; break; }
            }

            if (twin >= 0)
            {
                var k = kept[twin];
                kept[twin] = k with { Support = k.Support + 1, Score = MathF.Max(k.Score, s.Score) };
                if (trace is not null) trace[s.Index] = FusionDrop.Duplicate;
                continue;
            }

            kept.Add(new FusedHead(s.Box, s.Score, s.Evidence, 1));
        }

        return kept;
    }

    private static FusionDrop Screen(in HeadCandidate c, AudienceScene scene, AudienceOptions options, out BoxF box)
    {
        var d = c.Detection;
        box = c.Evidence switch
        {
            HeadEvidence.Face => HeadFromFace(d.Box),
            HeadEvidence.Person => HeadOfPerson(d.Box, scene.Perspective?.ExpectedHeightAt(d.Box.Top)),
            _ => d.Box,
        };
        var centre = new PointF(box.CenterX, box.CenterY);
        if (InAny(scene.Masks, centre)) return FusionDrop.Masked;
        if (c.Evidence != HeadEvidence.Person && scene.Perspective is { } p)
        {
            float ratio = box.Height / p.ExpectedHeightAt(centre.Y);
            if (ratio < options.MinSizeRatio || ratio > options.MaxSizeRatio) return FusionDrop.WrongSize;
        }

        float threshold = c.Evidence switch
        {
            HeadEvidence.Face => options.FaceScore,
            HeadEvidence.Person => options.PersonScore,
            _ => ThresholdAt(centre, scene, options),
        };
        if (d.Score < threshold) return FusionDrop.BelowThreshold;
        if (IsStatic(box, c.ReferenceChange, scene, options)) return FusionDrop.Static;
        return FusionDrop.Kept;
    }

    /// <summary>Seen as a head on the empty-hall reference too, and its patch has not changed since: a coat, a sign, a pattern.</summary>
    public static bool IsStatic(in BoxF box, float referenceChange, AudienceScene scene, AudienceOptions options)
    {
        if (float.IsNaN(referenceChange) || referenceChange >= options.StaticMaxChange) return false;
        foreach (var r in scene.ReferenceHeads)
        {
            if (r.IoU(box) >= options.StaticIoU) return true;
        }

        return false;
    }

    /// <summary>
    /// Two boxes are one head when their centres are within <paramref name="distance"/> of the larger box's size on
    /// both axes. A person-implied head is one with any head whose centre lies in its region (the region is a guess).
    /// </summary>
    private static bool SameHead(in BoxF kept, in BoxF candidate, HeadEvidence evidence, float distance)
    {
        if (evidence == HeadEvidence.Person)
        {
            var grown = BoxF.FromCenter(candidate.CenterX, candidate.CenterY, candidate.Width * 1.6f, candidate.Height * 1.8f);
            return grown.Contains(new PointF(kept.CenterX, kept.CenterY));
        }

        float size = MathF.Max(MathF.Max(kept.Width, kept.Height), MathF.Max(candidate.Width, candidate.Height));
        return MathF.Abs(kept.CenterX - candidate.CenterX) < distance * size && MathF.Abs(kept.CenterY - candidate.CenterY) < distance * size;
    }

    private static bool InAny(IReadOnlyList<IReadOnlyList<PointF>> polygons, PointF p)
    {
        foreach (var polygon in polygons)
        {
            if (polygon.Count >= 3 && Polygons.Contains(polygon, p)) return true;
        }

        return false;
    }
}

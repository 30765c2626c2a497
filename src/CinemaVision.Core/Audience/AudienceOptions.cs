namespace CinemaVision.Core.Audience;

/// <summary>
/// How a seated audience is counted from heads: how the frame is scaled for the head model, how head, face and person
/// evidence is fused and how the empty hall is used. A section of <see cref="Pipeline.CameraPipelineOptions"/>
/// (<c>audience.*</c> in an auditorium file's <c>pipeline</c> section); the scores that count are not here but in
/// <see cref="Detections.DetectionThresholds"/> (<c>scores.head</c> outside seats, <c>scores.seatedHead</c> inside a
/// seat and everywhere when there is no seat map, <c>scores.face</c>, <c>scores.person</c>). Which models run is the
/// analyser's choice (a camera setting), not a threshold. The defaults are the configuration measured in
/// docs/audience.md (tuned on one classroom only, checked on another never tuned on).
/// </summary>
public sealed record AudienceOptions
{
    /// <summary>A seated person's head height as a multiple of the seat spacing, to derive the head perspective from a seat map.</summary>
    public float HeadHeightPerSeatWidth { get; init; } = 0.4f;

    /// <summary>Head height (model-input pixels) each band is resampled to: the size the head model finds best.</summary>
    public float TargetHeadPixels { get; init; } = 48;

    /// <summary>Most upsampling of the back rows.</summary>
    public float MaxScale { get; init; } = 2f;

    /// <summary>Least resampling (large near heads are downscaled to save time).</summary>
    public float MinScale { get; init; } = 0.5f;

    /// <summary>Heads larger than this multiple of <see cref="TargetHeadPixels"/> in a band's input are dropped: the large-head branches fire on textures.</summary>
    public float MaxHeadInputRatio { get; init; } = 2f;

    /// <summary>Without a known perspective, a survey pass over the whole frame, downscaled to at most this many pixels, finds heads to fit one.</summary>
    public int SurveyPixels { get; init; } = 400_000;

    /// <summary>Survey heads at or above this score fit the perspective.</summary>
    public float PerspectiveFitScore { get; init; } = 0.7f;

    /// <summary>Upper bound on a band tile's input pixels (split for parallelism and memory).</summary>
    public int MaxTileInputPixels { get; init; } = 600_000;

    /// <summary>
    /// Perspective-aware threshold: where the expected head is below <see cref="SmallHeadPixels"/> (frame pixels), the
    /// head score that counts is lowered by up to this much (small upsampled heads are blurred and score lower).
    /// </summary>
    public float SmallHeadScoreDrop { get; init; }

    public float SmallHeadPixels { get; init; } = 16;

    /// <summary>A head whose height is outside these multiples of the expected height at its row is not a head of that row.</summary>
    public float MinSizeRatio { get; init; } = 0.5f;

    public float MaxSizeRatio { get; init; } = 2f;

    /// <summary>Two heads whose centres are closer than this share of the larger box's size (both axes) are one head.</summary>
    public float DuplicateDistance { get; init; } = 0.4f;

    /// <summary>A head that overlaps a detection on the empty-hall reference by this IoU is a candidate static object (a coat, a sign, a pattern)...</summary>
    public float StaticIoU { get; init; } = 0.5f;

    /// <summary>...and is suppressed when its patch changed less than this against the reference (0 = identical, 1 = unrelated).</summary>
    public float StaticMaxChange { get; init; } = 0.25f;

    /// <summary>
    /// On a camera whose masks have not been drawn, find the text burnt in along the picture's top and bottom edges
    /// (clock, camera name) and ignore heads there: the head model boxes glyphs at low thresholds.
    /// </summary>
    public bool MaskBurntInText { get; init; } = true;

    /// <summary>A seat whose appearance changed at least this much against its empty self has something on it (a person or an object).</summary>
    public float SeatChanged { get; init; } = 0.35f;

    public IEnumerable<string> Validate(string prefix = "")
    {
        if (HeadHeightPerSeatWidth is <= 0 or > 3) yield return $"{prefix}headHeightPerSeatWidth: must be within (0, 3] (was {HeadHeightPerSeatWidth}).";
        if (TargetHeadPixels is < 8 or > 160) yield return $"{prefix}targetHeadPixels: must be within 8..160 (was {TargetHeadPixels}).";
        if (MinScale <= 0 || MaxScale < MinScale || MaxScale > 4) yield return $"{prefix}minScale/maxScale: need 0 < minScale <= maxScale <= 4 (were {MinScale}, {MaxScale}).";
        if (MaxHeadInputRatio <= 1) yield return $"{prefix}maxHeadInputRatio: must be above 1 (was {MaxHeadInputRatio}).";
        if (SurveyPixels < 50_000) yield return $"{prefix}surveyPixels: must be at least 50000 (was {SurveyPixels}).";
        if (MaxTileInputPixels < 16_384) yield return $"{prefix}maxTileInputPixels: must be at least 16384 (was {MaxTileInputPixels}).";
        if (PerspectiveFitScore is < 0 or > 1) yield return $"{prefix}perspectiveFitScore: must be within 0..1 (was {PerspectiveFitScore}).";
        if (SmallHeadScoreDrop is < 0 or > 0.5f) yield return $"{prefix}smallHeadScoreDrop: must be within 0..0.5 (was {SmallHeadScoreDrop}).";
        if (SmallHeadPixels <= 0) yield return $"{prefix}smallHeadPixels: must be above 0 (was {SmallHeadPixels}).";
        if (MinSizeRatio <= 0 || MaxSizeRatio <= MinSizeRatio) yield return $"{prefix}minSizeRatio/maxSizeRatio: need 0 < min < max (were {MinSizeRatio}, {MaxSizeRatio}).";
        if (DuplicateDistance is <= 0 or > 1) yield return $"{prefix}duplicateDistance: must be within (0, 1] (was {DuplicateDistance}).";
        if (StaticIoU is <= 0 or > 1) yield return $"{prefix}staticIoU: must be within (0, 1] (was {StaticIoU}).";
        if (StaticMaxChange is < 0 or > 1) yield return $"{prefix}staticMaxChange: must be within 0..1 (was {StaticMaxChange}).";
        if (SeatChanged is <= 0 or > 1) yield return $"{prefix}seatChanged: must be within (0, 1] (was {SeatChanged}).";
    }
}

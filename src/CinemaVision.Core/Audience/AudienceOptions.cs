namespace CinemaVision.Core.Audience;

/// <summary>
/// Every threshold of audience counting, in one place: which models, how the frame is scaled, how head, face and
/// person evidence is fused, the seat prior, the empty-hall reference and lighting. The defaults are the configuration
/// measured in docs/audience.md (tuned on one classroom only, checked on another never tuned on). A camera's
/// pipeline options hold this record; an auditorium may override <see cref="SeatHeadScore"/> (spot-count calibration).
/// </summary>
public sealed record AudienceOptions
{
    /// <summary>The head model (models.json name); "none" turns head detection off (then only face and person evidence count).</summary>
    public string HeadModel { get; init; } = "lffd_head";

    /// <summary>A face model whose faces confirm or add heads (a camera at the screen end sees faces); null = none.</summary>
    public string? FaceModel { get; init; }

    /// <summary>A person model whose boxes imply a head region (standing people, heads hidden by the seat in front); null = none.</summary>
    public string? PersonModel { get; init; }

    /// <summary>True when <see cref="HeadModel"/> names no model.</summary>
    public bool HeadModelOff => string.IsNullOrWhiteSpace(HeadModel) || string.Equals(HeadModel, "none", StringComparison.OrdinalIgnoreCase);

    // --- scales ---

    /// <summary>Head height (model-input pixels) each band is resampled to: the size the head model finds best.</summary>
    public float TargetHeadPixels { get; init; } = 40;

    /// <summary>Most upsampling of the back rows.</summary>
    public float MaxScale { get; init; } = 2.83f;

    /// <summary>Least resampling (large near heads are downscaled to save time).</summary>
    public float MinScale { get; init; } = 0.5f;

    /// <summary>Heads larger than this multiple of <see cref="TargetHeadPixels"/> in a band's input are dropped: the large-head branches fire on textures.</summary>
    public float MaxHeadInputRatio { get; init; } = 2f;

    /// <summary>Without a known perspective, a survey pass over the whole frame, downscaled to at most this many pixels, finds heads to fit one.</summary>
    public int SurveyPixels { get; init; } = 1_000_000;

    /// <summary>Survey heads at or above this score fit the perspective.</summary>
    public float PerspectiveFitScore { get; init; } = 0.7f;

    /// <summary>Upper bound on a band tile's input pixels (split for parallelism and memory).</summary>
    public int MaxTileInputPixels { get; init; } = 600_000;

    // --- fusion ---

    /// <summary>
    /// Inside a seat polygon the seat is a prior: weaker evidence counts. Without a seat map (day one in a new
    /// auditorium, a camera tried before its seats are drawn) the whole picture is taken as seating and this applies
    /// everywhere. Overridable per auditorium, adjusted within bounds from spot counts.
    /// </summary>
    public float SeatHeadScore { get; init; } = 0.25f;

    /// <summary>With a seat map, outside every seat (aisles, stage, walls) the strict threshold stays.</summary>
    public float AisleHeadScore { get; init; } = 0.45f;

    /// <summary>
    /// Perspective-aware: where the expected head is below <see cref="SmallHeadPixels"/> (frame pixels), the threshold
    /// is lowered by up to this much (small upsampled heads are blurred and score lower).
    /// </summary>
    public float SmallHeadScoreDrop { get; init; }

    public float SmallHeadPixels { get; init; } = 16;

    /// <summary>A head whose height is outside these multiples of the expected height at its row is not a head of that row.</summary>
    public float MinSizeRatio { get; init; } = 0.5f;

    public float MaxSizeRatio { get; init; } = 2f;

    /// <summary>Two heads whose centres are closer than this share of the larger box's size (both axes) are one head.</summary>
    public float DuplicateDistance { get; init; } = 0.4f;

    /// <summary>A face at or above this score is a head (its box grown to the whole head).</summary>
    public float FaceScore { get; init; } = 0.6f;

    /// <summary>A person at or above this score whose head region holds no head adds one.</summary>
    public float PersonScore { get; init; } = 0.6f;

    // --- the empty hall ---

    /// <summary>A head that overlaps a detection on the empty-hall reference by this IoU is a candidate static object (a coat, a sign, a pattern)...</summary>
    public float StaticIoU { get; init; } = 0.5f;

    /// <summary>...and is suppressed when its patch changed less than this against the reference (0 = identical, 1 = unrelated).</summary>
    public float StaticMaxChange { get; init; } = 0.25f;

    public IEnumerable<string> Validate()
    {
        if (TargetHeadPixels is < 8 or > 160) yield return $"TargetHeadPixels: must be within 8..160 (was {TargetHeadPixels}).";
        if (MinScale <= 0 || MaxScale < MinScale || MaxScale > 4) yield return $"MinScale/MaxScale: need 0 < MinScale <= MaxScale <= 4 (were {MinScale}, {MaxScale}).";
        if (MaxHeadInputRatio <= 1) yield return $"MaxHeadInputRatio: must be above 1 (was {MaxHeadInputRatio}).";
        if (SurveyPixels < 50_000) yield return $"SurveyPixels: must be at least 50000 (was {SurveyPixels}).";
        foreach (var (name, value) in new[] { ("SeatHeadScore", SeatHeadScore), ("AisleHeadScore", AisleHeadScore), ("FaceScore", FaceScore), ("PersonScore", PersonScore), ("PerspectiveFitScore", PerspectiveFitScore) })
        {
            if (value is < 0 or > 1) yield return $"{name}: must be within 0..1 (was {value}).";
        }

        if (SmallHeadScoreDrop is < 0 or > 0.5f) yield return $"SmallHeadScoreDrop: must be within 0..0.5 (was {SmallHeadScoreDrop}).";
        if (MinSizeRatio <= 0 || MaxSizeRatio <= MinSizeRatio) yield return $"MinSizeRatio/MaxSizeRatio: need 0 < min < max (were {MinSizeRatio}, {MaxSizeRatio}).";
        if (DuplicateDistance is <= 0 or > 1) yield return $"DuplicateDistance: must be within (0, 1] (was {DuplicateDistance}).";
        if (StaticIoU is <= 0 or > 1) yield return $"StaticIoU: must be within (0, 1] (was {StaticIoU}).";
        if (StaticMaxChange is < 0 or > 1) yield return $"StaticMaxChange: must be within 0..1 (was {StaticMaxChange}).";
    }
}

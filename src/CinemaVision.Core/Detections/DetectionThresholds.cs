namespace CinemaVision.Core.Detections;

/// <summary>
/// The one home of every detection score threshold. A detection counts (is a person, fills a seat, is a phone held
/// up) when its score reaches its class's threshold; a person, face or head whose anchor lies inside a seat outline
/// may count from the lower seat-conditioned threshold (the seat map is a prior: someone sitting in a seat is likely,
/// someone floating over the aisle is not). Detectors keep candidates down to <see cref="Floor"/> so the tracker can
/// keep occluded people alive (ByteTrack's second pass) without those candidates ever being counted.
/// The tools' defaults (<c>cvtools detect/eval/bench/track</c>) and the camera pipeline read the same values.
/// </summary>
public sealed record DetectionThresholds
{
    /// <summary>The default person score (tools, pipeline and tracker all start from this one value).</summary>
    public const float DefaultPerson = 0.55f;

    public static DetectionThresholds Default { get; } = new();

    public float Person { get; init; } = DefaultPerson;
    public float Face { get; init; } = 0.6f;
    public float Head { get; init; } = 0.35f;
    public float Phone { get; init; } = 0.25f;
    public float Camera { get; init; } = 0.35f;

    /// <summary>Classes the product does not reason about (kept only when a tool asks for every class).</summary>
    public float Other { get; init; } = 0.35f;

    /// <summary>A person whose upper body lies in a seat fills it from this score.</summary>
    public float SeatedPerson { get; init; } = DefaultPerson;

    /// <summary>A face whose chest point lies in a seat fills it from this score.</summary>
    public float SeatedFace { get; init; } = 0.6f;

    /// <summary>A head whose anchor lies in a seat fills it from this score.</summary>
    public float SeatedHead { get; init; } = 0.35f;

    /// <summary>People between this and <see cref="Person"/> only keep existing tracks alive; they never count.</summary>
    public float TrackingFloor { get; init; } = 0.3f;

    /// <summary>The score from which a detection of the class counts.</summary>
    public float For(ObjectClass c) => c switch
    {
        ObjectClass.Person => Person,
        ObjectClass.Face => Face,
        ObjectClass.Head => Head,
        ObjectClass.Phone => Phone,
        ObjectClass.Camera => Camera,
        _ => Other,
    };

    /// <summary>The score from which a detection of the class counts when it lies in a seat.</summary>
    public float Seated(ObjectClass c) => c switch
    {
        ObjectClass.Person => SeatedPerson,
        ObjectClass.Face => SeatedFace,
        ObjectClass.Head => SeatedHead,
        _ => For(c),
    };

    /// <summary>The lowest score a detector must keep for the class (counting, seats and tracking).</summary>
    public float Floor(ObjectClass c) => MathF.Min(MathF.Min(For(c), Seated(c)), c == ObjectClass.Person ? TrackingFloor : float.MaxValue);

    /// <summary>The per-class floors as detectors take them (merging drops candidates below these).</summary>
    public IReadOnlyDictionary<ObjectClass, float> Floors() => Enum.GetValues<ObjectClass>().Where(c => c != ObjectClass.Other).ToDictionary(c => c, Floor);

    /// <summary>The per-class counting thresholds as detectors take them (tools that show what counts).</summary>
    public IReadOnlyDictionary<ObjectClass, float> Counting() => Enum.GetValues<ObjectClass>().Where(c => c != ObjectClass.Other).ToDictionary(c => c, For);

    public IEnumerable<string> Validate(string prefix = "")
    {
        foreach (var (name, value) in new[] { ("person", Person), ("face", Face), ("head", Head), ("phone", Phone), ("camera", Camera), ("other", Other), ("seatedPerson", SeatedPerson), ("seatedFace", SeatedFace), ("seatedHead", SeatedHead), ("trackingFloor", TrackingFloor) })
        {
            if (float.IsNaN(value) || value is < 0 or > 1) yield return $"{prefix}{name}: must be within 0..1 (was {value}).";
        }
    }
}

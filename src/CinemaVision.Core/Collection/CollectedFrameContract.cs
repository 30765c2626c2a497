namespace CinemaVision.Core.Collection;

/// <summary>
/// What an agent sends with a kept frame (multipart field <c>meta</c> of <c>POST /api/v1/agent/frames</c>, beside the
/// JPEG in field <c>image</c>), and what the centre lists: one definition for both sides.
/// </summary>
public sealed record CollectedFrameMeta
{
    /// <summary>Chosen by the agent (letters, digits, '.', '_', '-'): a retried upload of the same frame is one frame.</summary>
    public required string Id { get; init; }

    public required string AuditoriumId { get; init; }

    public required string CameraId { get; init; }

    public required DateTimeOffset CapturedAt { get; init; }

    /// <summary>Names from <see cref="CollectionReasons"/>.</summary>
    public IReadOnlyList<string> Reasons { get; init; } = [];

    /// <summary>The event kind that started on this frame, for the reason "event".</summary>
    public string? EventKind { get; init; }

    /// <summary>0 (sure) .. 1 (very unsure), from <see cref="FrameCollector"/>.</summary>
    public double Uncertainty { get; init; }

    /// <summary>The model that analysed the frame (name and version) when it was kept.</summary>
    public string? ModelName { get; init; }

    public string? ModelVersion { get; init; }

    public int Width { get; init; }

    public int Height { get; init; }
}

/// <summary>A kept frame as the centre lists it to the data team.</summary>
public sealed record CollectedFrameInfo
{
    public required CollectedFrameMeta Meta { get; init; }

    public required string SiteId { get; init; }

    public required string AgentId { get; init; }

    public required long Bytes { get; init; }

    public required DateTimeOffset ReceivedAt { get; init; }
}

using CinemaVision.Core.Frames;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Detections;

/// <summary>
/// The detector port. Implementations (ONNX Runtime in CinemaVision.Vision) must be safe for concurrent calls.
/// The result is a new list owned by the caller; boxes are in the frame's pixel coordinates.
/// </summary>
public interface IObjectDetector : IDisposable
{
    DetectorInfo Info { get; }

    IReadOnlyList<Detection> Detect(IFrame frame, CancellationToken cancellationToken = default);
}

/// <summary>What a detector is: the model behind it, its native input size and its classes.</summary>
public sealed record DetectorInfo(string ModelName, string ModelVersion, SizeI InputSize, IReadOnlyList<string> ClassNames, IReadOnlyList<ObjectClass> ClassMap)
{
    /// <summary>
    /// The product classes this detector gives (person, head, face, phone...): what a pipeline may ask of it. A
    /// pipeline that needs heads checks this rather than trusting a model name.
    /// </summary>
    public IReadOnlySet<ObjectClass> Classes { get; } = ClassMap.Where(c => c != ObjectClass.Other).ToHashSet();

    public bool Gives(ObjectClass objectClass) => Classes.Contains(objectClass);
}

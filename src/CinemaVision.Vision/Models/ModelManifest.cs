using System.Text.Json.Serialization;
using CinemaVision.Core.Detections;

namespace CinemaVision.Vision.Models;

/// <summary>One model as described in <c>models/models.json</c>: where it comes from and how to feed it.</summary>
public sealed record ModelManifest
{
    public required string Name { get; init; }
    public required string Version { get; init; }

    /// <summary>Path relative to the asset root, e.g. <c>models/yolox_nano_coco_416.onnx</c>.</summary>
    public required string File { get; init; }
    public string? Url { get; init; }
    public required string Sha256 { get; init; }
    public string? Licence { get; init; }
    public string? Description { get; init; }

    /// <summary>
    /// Where the weights come from and what they were trained on, when an installer must know before choosing them
    /// (printed by <c>cvtools models fetch</c> and <c>list</c>).
    /// </summary>
    public string? Provenance { get; init; }

    /// <summary>The output layout: <c>yolox</c>, <c>ultraface</c>, <c>lffd</c>, <c>ultralytics-v5</c>, <c>ultralytics-v8</c> or <c>ultralytics-v11</c> (see <c>Decoders</c>).</summary>
    public required string Decoder { get; init; }
    public required ModelInput Input { get; init; }
    public IReadOnlyList<int> Strides { get; init; } = [8, 16, 32];

    /// <summary>LFFD: the receptive-field centre of cell 0 of each branch, in input pixels.</summary>
    public IReadOnlyList<float> ReceptiveFieldStarts { get; init; } = [];

    /// <summary>LFFD: the box regression scale of each branch (its smallest object, in input pixels).</summary>
    public IReadOnlyList<float> BoxScales { get; init; } = [];
    public required IReadOnlyList<string> ClassNames { get; init; }

    /// <summary>Model class name → product class (<see cref="ObjectClass"/> name); unmapped classes are <see cref="ObjectClass.Other"/>.</summary>
    public IReadOnlyDictionary<string, string> ClassMap { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<ObjectClass> ResolveClassMap()
    {
        var result = new ObjectClass[ClassNames.Count];
        for (int i = 0; i < ClassNames.Count; i++)
        {
            result[i] = ClassMap.TryGetValue(ClassNames[i], out var name) && Enum.TryParse<ObjectClass>(name, ignoreCase: true, out var c)
                ? c
                : ObjectClass.Other;
        }

        return result;
    }
}

/// <summary>The input tensor a model expects and how pixels are turned into it.</summary>
public sealed record ModelInput
{
    public required string Name { get; init; }

    /// <summary>NCHW, e.g. [1, 3, 416, 416]; for a model with <see cref="DynamicSize"/>, the nominal tile size.</summary>
    public required IReadOnlyList<int> Shape { get; init; }

    /// <summary>The graph takes any height and width (fully convolutional): regions run at their own scale, no letterbox to a fixed size.</summary>
    public bool DynamicSize { get; init; }

    /// <summary><c>bgr</c> or <c>rgb</c>.</summary>
    public string ColorOrder { get; init; } = "bgr";
    public IReadOnlyList<float> Mean { get; init; } = [0, 0, 0];
    public IReadOnlyList<float> Std { get; init; } = [1, 1, 1];

    /// <summary><c>letterbox</c> (keep aspect, pad) or <c>stretch</c> (plain resize).</summary>
    public string Resize { get; init; } = "letterbox";

    /// <summary><c>top-left</c> or <c>center</c> anchoring of a letterboxed image.</summary>
    public string Anchor { get; init; } = "top-left";
    public byte PadValue { get; init; } = 114;

    [JsonIgnore]
    public int Width => Shape.Count == 4 ? Shape[3] : 0;

    [JsonIgnore]
    public int Height => Shape.Count == 4 ? Shape[2] : 0;
}

/// <summary>A data file (footage, photo, ground truth) in the asset manifest.</summary>
public sealed record DataAsset
{
    public required string File { get; init; }
    public required string Sha256 { get; init; }
    public string? Url { get; init; }
    public string? Licence { get; init; }
}

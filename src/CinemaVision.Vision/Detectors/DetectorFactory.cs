using CinemaVision.Vision.Models;

namespace CinemaVision.Vision.Detectors;

/// <summary>
/// Builds a ready detector from options: <c>using var detector = DetectorFactory.Create(new DetectionOptions { Model = "yolox_nano_coco_416", Tiling = TilingMode.Tiled });</c>
/// </summary>
public static class DetectorFactory
{
    public static TiledDetector Create(DetectionOptions options, ModelCatalog? catalog = null)
    {
        var problems = options.Validate().ToList();
        if (problems.Count > 0) throw new ArgumentException("Invalid detection options: " + string.Join(" ", problems), nameof(options));
        var manifest = (catalog ?? ModelCatalog.Default).Get(options.Model);
        var model = OnnxModelSession.Open(manifest, options.ModelPath, new OnnxThreading(options.IntraOpThreads), options.VerifyModelHash);
        try
        {
            return new TiledDetector(model, DecoderFor(manifest), options);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public static IDetectionDecoder DecoderFor(ModelManifest manifest) => manifest.Decoder.ToLowerInvariant() switch
    {
        "yolox" => YoloxDecoder.Instance,
        "ultraface" => UltraFaceDecoder.Instance,
        _ => throw new ModelAssetException(manifest.Name, $"unknown decoder kind '{manifest.Decoder}' (known: yolox, ultraface)"),
    };
}

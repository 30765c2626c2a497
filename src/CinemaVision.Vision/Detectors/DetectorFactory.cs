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
            return new TiledDetector(model, model.Decoder, options);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}

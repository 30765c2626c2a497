using CinemaVision.Vision.Assets;

namespace CinemaVision.Vision.Tests;

/// <summary>Real third-party assets (never committed): from the verified cache or the mirror folder.</summary>
internal static class TestAssets
{
    public static string Path(string relative) => AssetLocator.Resolve(relative);

    public const string Pets = "data/pets09-s2l1/vtest_first100.avi";
    public const string PetsGroundTruth = "data/pets09-s2l1/gt_first100.txt";
    public const string Solvay = "data/solvay-1927/1280px-Solvay_conference_1927.png";
    public const string SolvayFaces = "data/solvay-1927/faces_1280x926.csv";
    public const string Kite = "data/photos/kite.jpg";
    public const string PhoneAtFace = "data/coco-phones/000000001296.jpg";
}

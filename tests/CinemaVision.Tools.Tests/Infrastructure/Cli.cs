using CinemaVision.Tools.Commands;
using CinemaVision.Vision.Assets;

namespace CinemaVision.Tools.Tests.Infrastructure;

/// <summary>Runs cvtools commands in-process with stdout and stderr captured (tests using it share the "Console" collection).</summary>
internal static class Cli
{
    public static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var root = CommandTree.Build();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            int exit = await root.Parse(args).InvokeAsync();
            return (exit, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }
}

/// <summary>The real third-party material the tests read (never committed; fetched or mirrored).</summary>
internal static class RealData
{
    public static string PetsVideo => AssetLocator.Resolve("data/pets09-s2l1/vtest_first100.avi");
    public static string PetsGroundTruth => AssetLocator.Resolve("data/pets09-s2l1/gt_first100.txt");
    public static string Solvay => AssetLocator.Resolve("data/solvay-1927/1280px-Solvay_conference_1927.png");
    public static string SolvayFacesCsv => AssetLocator.Resolve("data/solvay-1927/faces_1280x926.csv");
    public static string SolvayFacesYolo => AssetLocator.Resolve("data/solvay-1927/faces_1280x926.yolo.txt");

    /// <summary>The classroom head boxes (research data: read in place, never copied into the project).</summary>
    public static string Classroom => Path.GetDirectoryName(AssetLocator.Resolve("data/scut-head-classroom/rooms.csv"))!;

    public static string ClassroomImages => Path.Combine(Classroom, "JPEGImages");

    /// <summary>A small VOC folder of the first <paramref name="count"/> classroom annotation files (a test subset).</summary>
    public static string ClassroomSubset(string into, int count)
    {
        var dir = Directory.CreateDirectory(Path.Combine(into, "Annotations")).FullName;
        foreach (var f in Directory.GetFiles(Path.Combine(Classroom, "Annotations"), "*.xml").Order(StringComparer.Ordinal).Take(count))
        {
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        }

        return into;
    }
}

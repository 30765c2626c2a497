using System.CommandLine;
using System.Text.Json;
using CinemaVision.Tools.Commands;
using CinemaVision.Vision.Assets;

namespace CinemaVision.Tools.Tests;

/// <summary>
/// The audience commands on real classroom CCTV (research data read from the asset mirror, never committed):
/// `cvtools eval` with a room of rooms.csv and the audience configuration, `cvtools occupancy` before a seat map
/// exists, and `cvtools calibrate --empty` on the empty hall.
/// </summary>
[Collection("Console")]
public sealed class AudienceCommandTests : IDisposable
{
    private const string Classroom = "data/scut-head-classroom";
    private readonly string _dir = Directory.CreateTempSubdirectory("cv-aud-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static string Asset(string relative) => AssetLocator.Resolve(relative);

    private static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var root = new RootCommand { EvalCommand.Create(), OccupancyCommand.Create(), CalibrateCommand.Create() };
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            return (await root.Parse(args).InvokeAsync(), stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    [Fact]
    public async Task Eval_OneRoomOfRoomsCsv_AudienceBeatsTheHeadModelAloneOnRecall()
    {
        var images = Path.GetDirectoryName(Asset($"{Classroom}/JPEGImages/PartA_01792.jpg"))!;
        var root = Path.GetDirectoryName(images)!;
        var json = Path.Combine(_dir, "room.json");

        // Every 60th frame of the held-out room: 7 frames.
        var (exit, output, error) = await RunAsync("eval", "--input", images, "--gt", root, "--class", "head", "--match", "center",
            "--list", Path.Combine(root, "rooms.csv"), "--room", "1-403", "--step", "60", "--compare", "lffd_head@full,audience", "--json", json);

        Assert.True(exit == 0, error);
        Assert.Contains("audience", output, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var full = doc.RootElement.GetProperty("lffd_head@full");
        var audience = doc.RootElement.GetProperty("audience");
        Assert.Equal(7, audience.GetProperty("frames").GetInt32());
        Assert.True(audience.GetProperty("recall").GetDouble() > full.GetProperty("recall").GetDouble() + 0.1, $"audience {audience} vs full {full}");
        Assert.True(audience.GetProperty("precision").GetDouble() >= 0.7, audience.ToString());
        Assert.True(audience.GetProperty("count_mae").GetDouble() < full.GetProperty("count_mae").GetDouble(), audience.ToString());
    }

    [Fact]
    public async Task Eval_RoomNotInTheList_NamesTheRoomsThereAre()
    {
        var images = Path.GetDirectoryName(Asset($"{Classroom}/JPEGImages/PartA_01792.jpg"))!;
        var root = Path.GetDirectoryName(images)!;
        var (exit, _, error) = await RunAsync("eval", "--input", images, "--gt", root, "--class", "head", "--list", Path.Combine(root, "rooms.csv"), "--room", "1-999", "--compare", "audience");
        Assert.Equal(2, exit);
        Assert.Contains("1-401", error, StringComparison.Ordinal);
        Assert.Contains("1-403", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Occupancy_WithoutAnAuditorium_CountsPeopleWithSeatFieldsZero()
    {
        var json = Path.Combine(_dir, "occ.json");
        var (exit, output, error) = await RunAsync("occupancy", "--input", Asset($"{Classroom}/JPEGImages/PartA_01792.jpg"), "--json", json);

        Assert.True(exit == 0, error);
        Assert.Contains("people", output, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        // 87 heads are labelled in this frame.
        Assert.InRange(doc.RootElement.GetProperty("people").GetInt32(), 55, 100);
        Assert.Equal(0, doc.RootElement.GetProperty("seats_total").GetInt32());
        Assert.Equal(0, doc.RootElement.GetProperty("seats_occupied").GetInt32());
    }

    [Fact]
    public async Task Calibrate_EmptyClassroom_ReferenceLitAndTheRoomNameProposedAsAMask()
    {
        var json = Path.Combine(_dir, "calibrate.json");
        var (exit, output, error) = await RunAsync("calibrate", "--empty", Asset($"{Classroom}/JPEGImages/PartA_00499.jpg"), "--out", _dir, "--json", json);

        Assert.True(exit == 0, error);
        Assert.Contains("proposed masks", output, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var r = doc.RootElement;
        Assert.Equal("lit", r.GetProperty("mode").GetString());
        Assert.True(File.Exists(r.GetProperty("reference").GetString()));
        int width = r.GetProperty("width").GetInt32(), height = r.GetProperty("height").GetInt32();
        // The room name burnt in at the bottom right.
        Assert.Contains(r.GetProperty("masks").EnumerateArray(), m => m[0].GetInt32() > width / 2 && m[1].GetInt32() > height * 0.8);
    }
}

using CinemaVision.Core.Cameras;

namespace CinemaVision.Core.Tests.Cameras;

public class LightingTests
{
    [Theory]
    [InlineData(140, 12, 50, LightingMode.Colour)]
    [InlineData(40, 10, 30, LightingMode.Dim)]      // house lights down
    [InlineData(120, 9, 20, LightingMode.Dim)]      // bright but flat
    [InlineData(150, 1.0, 50, LightingMode.Infrared)] // grey beats bright
    [InlineData(30, 0.5, 15, LightingMode.Infrared)]
    public void Classify_Measurements_Mode(double brightness, double colourfulness, double contrast, LightingMode expected) =>
        Assert.Equal(expected, LightingClassifier.Classify(new LightingMeasurements(brightness, colourfulness, contrast)));

    [Fact]
    public void Tracker_ChangesModeOnlyAfterSeveralAgreeingFrames()
    {
        var tracker = new LightingModeTracker(new LightingOptions { ChangeAfter = 3 });
        var lit = new LightingMeasurements(140, 12, 50);
        var ir = new LightingMeasurements(100, 1, 40);

        Assert.Equal(LightingMode.Colour, tracker.Observe(lit));
        Assert.Null(tracker.Observe(ir));
        Assert.Null(tracker.Observe(lit)); // a flicker resets the count
        Assert.Null(tracker.Observe(ir));
        Assert.Null(tracker.Observe(ir));
        Assert.Equal(LightingMode.Infrared, tracker.Observe(ir));
        Assert.Equal(LightingMode.Infrared, tracker.Mode);
    }

    [Theory]
    [InlineData("lit", LightingMode.Colour)]
    [InlineData("dim", LightingMode.Dim)]
    [InlineData("infrared", LightingMode.Infrared)]
    public void Names_RoundTrip(string name, LightingMode mode)
    {
        Assert.True(LightingClassifier.TryParse(name, out var parsed));
        Assert.Equal(mode, parsed);
        Assert.Equal(name, LightingClassifier.Name(mode));
    }
}

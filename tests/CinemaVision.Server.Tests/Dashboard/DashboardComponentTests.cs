using System.Globalization;
using Bunit;
using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Events;
using CinemaVision.Core.Geometry;
using CinemaVision.Server.Components.Shared;
using CinemaVision.Server.Dashboard.Localization;
using Microsoft.Extensions.DependencyInjection;

namespace CinemaVision.Server.Tests.Dashboard;

/// <summary>The dashboard's own drawing components, rendered with bUnit.</summary>
public sealed class DashboardComponentTests
{
    private static Seat Seat(string row, int number) => new($"{row}{number}", row, number, [new PointF(0, 0), new PointF(10, 0), new PointF(10, 10), new PointF(0, 10)]);

    [Fact]
    public async Task SeatMapPlan_StatesAndTickets_ColourEachSeat()
    {
        await using var ctx = new BunitContext();
        ctx.Services.AddSingleton(new DashboardText());
        Seat[] seats = [Seat("A", 1), Seat("A", 2), Seat("A", 3), Seat("A", 4), Seat("B", 1)];
        var states = new Dictionary<string, SeatState> { ["A1"] = SeatState.Occupied, ["A2"] = SeatState.Occupied, ["A3"] = SeatState.Empty, ["A4"] = SeatState.Empty };
        var sold = new HashSet<string> { "A1", "A3" };

        var cut = ctx.Render<SeatMapPlan>(p => p.Add(x => x.Seats, seats).Add(x => x.States, states).Add(x => x.Sold, sold));

        string State(string seat) => cut.Find($"[data-seat={seat}]").GetAttribute("data-state")!;
        Assert.Equal("Occupied", State("A1"));
        Assert.Equal("OccupiedUnsold", State("A2"));
        Assert.Equal("SoldEmpty", State("A3"));
        Assert.Equal("Empty", State("A4"));
        Assert.Equal("Unknown", State("B1"));
        Assert.Contains(cut.FindAll(".cv-legend span"), s => s.TextContent.Contains("Sold, empty", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SeatMapPlan_WithoutTickets_HasNoTicketColours_AndRowAIsNearestTheScreen()
    {
        await using var ctx = new BunitContext();
        ctx.Services.AddSingleton(new DashboardText());
        Seat[] seats = [Seat("B", 1), Seat("A", 1), Seat("A", 2), Seat("A", 5)];

        var cut = ctx.Render<SeatMapPlan>(p => p.Add(x => x.Seats, seats).Add(x => x.States, new Dictionary<string, SeatState> { ["A2"] = SeatState.Occupied }));

        Assert.Equal("Occupied", cut.Find("[data-seat=A2]").GetAttribute("data-state"));
        Assert.DoesNotContain(cut.FindAll(".cv-legend span"), s => s.TextContent.Contains("not sold", StringComparison.Ordinal));
        double Y(string seat) => double.Parse(cut.Find($"[data-seat={seat}]").GetAttribute("y")!, CultureInfo.InvariantCulture);
        double X(string seat) => double.Parse(cut.Find($"[data-seat={seat}]").GetAttribute("x")!, CultureInfo.InvariantCulture);
        Assert.True(Y("A1") < Y("B1"), "row A is drawn nearest the screen");

        // Seats 3 and 4 are missing (an aisle): seat 5 is three places right of seat 2, not one.
        Assert.Equal(3 * (X("A2") - X("A1")), X("A5") - X("A2"), 3);
    }

    [Fact]
    public async Task TimeChart_LongGapBetweenSamples_BreaksTheLine()
    {
        await using var ctx = new BunitContext();
        var t0 = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
        var points = new List<(DateTimeOffset, double)> { (t0, 10), (t0.AddMinutes(1), 12), (t0.AddMinutes(2), 14), (t0.AddMinutes(30), 40), (t0.AddMinutes(31), 42) };

        var cut = ctx.Render<TimeChart>(p => p
            .Add(x => x.Lines, [new ChartLine("people", "#000", points)])
            .Add(x => x.From, t0)
            .Add(x => x.To, t0.AddHours(1))
            .Add(x => x.Zone, TimeZoneInfo.Utc)
            .Add(x => x.Capacity, 100));

        var segments = cut.FindAll("path[data-series=people]");
        Assert.Equal(2, segments.Count);
        Assert.Equal(["3", "2"], segments.Select(s => s.GetAttribute("data-points")));
        Assert.Contains(cut.FindAll("text.axis"), t => t.TextContent == "12:30");
    }

    [Fact]
    public async Task TimeChart_TicksAreRoundTimesOfTheSite()
    {
        await using var ctx = new BunitContext();
        var from = new DateTimeOffset(2026, 11, 30, 10, 0, 0, TimeSpan.Zero);

        var cut = ctx.Render<TimeChart>(p => p
            .Add(x => x.Lines, [])
            .Add(x => x.From, from)
            .Add(x => x.To, from.AddHours(4))
            .Add(x => x.Zone, TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai"))
            .Add(x => x.EmptyText, "nothing"));

        var labels = cut.FindAll("text.axis").Select(t => t.TextContent).ToList();
        Assert.Contains("18:00", labels);
        Assert.Contains("20:00", labels);
        Assert.Contains("nothing", labels);
    }

    [Fact]
    public async Task BarChart_DrawsOneBarPerDay_WithItsLabel()
    {
        await using var ctx = new BunitContext();
        var cut = ctx.Render<BarChart>(p => p.Add(x => x.Bars, [("Mon", 40.0), ("Tue", null), ("Wed", 80.0)]).Add(x => x.Max, 100));

        var bars = cut.FindAll("rect.bar");
        Assert.Equal(3, bars.Count);
        Assert.True(double.Parse(bars[2].GetAttribute("height")!, CultureInfo.InvariantCulture) > double.Parse(bars[0].GetAttribute("height")!, CultureInfo.InvariantCulture));
        Assert.Equal(["40", "80"], cut.FindAll("text.bar-label").Select(t => t.TextContent));
    }
}

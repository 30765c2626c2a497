namespace CinemaVision.Server.Components.Shared;

/// <summary>One line of a <see cref="TimeChart"/>: points in time order.</summary>
public sealed record ChartLine(string Name, string Color, IReadOnlyList<(DateTimeOffset At, double Value)> Points, bool Area = false);

/// <summary>A shaded stretch of a <see cref="TimeChart"/> (a showing's trailers or feature).</summary>
public sealed record ChartBand(string Label, DateTimeOffset From, DateTimeOffset To, string Css);

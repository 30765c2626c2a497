namespace CinemaVision.Core.Showings;

/// <summary>A screening from the cinema's schedule (imported by the central service; agents pull it to arm their rules).</summary>
public sealed record Showing(string Id, string AuditoriumId, string Film, DateTimeOffset Start, DateTimeOffset FeatureStart, DateTimeOffset End);

/// <summary>What is happening in an auditorium: the rules are armed by it.</summary>
public enum ShowingState
{
    /// <summary>No showing (between showings, beyond the cleaning time).</summary>
    Closed = 0,

    /// <summary>Doors open, adverts and trailers before the feature.</summary>
    Trailers = 1,

    /// <summary>The feature is running: lights down, people seated.</summary>
    Feature = 2,

    /// <summary>The feature has ended: lights up, people leaving.</summary>
    LightsUp = 3,

    /// <summary>Staff cleaning before the next showing.</summary>
    Cleaning = 4,
}

public sealed record ShowingStateOptions
{
    /// <summary>How long after the end the lights are up and the audience leaves.</summary>
    public TimeSpan LightsUpFor { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long cleaning lasts after that.</summary>
    public TimeSpan CleaningFor { get; init; } = TimeSpan.FromMinutes(15);
}

/// <summary>The state of an auditorium at an instant, from its schedule (pure).</summary>
public static class ShowingSchedule
{
    public static (ShowingState State, Showing? Showing) StateAt(IEnumerable<Showing> showings, DateTimeOffset at, ShowingStateOptions? options = null)
    {
        options ??= new ShowingStateOptions();
        (ShowingState, Showing?) best = (ShowingState.Closed, null);
        foreach (var s in showings.OrderBy(s => s.Start))
        {
            if (at >= s.Start && at < s.FeatureStart) return (ShowingState.Trailers, s);
            if (at >= s.FeatureStart && at < s.End) return (ShowingState.Feature, s);
            if (at >= s.End && at < s.End + options.LightsUpFor) best = (ShowingState.LightsUp, s);
            else if (at >= s.End + options.LightsUpFor && at < s.End + options.LightsUpFor + options.CleaningFor && best.Item1 == ShowingState.Closed) best = (ShowingState.Cleaning, s);
        }

        return best;
    }
}

namespace CinemaVision.Core.Cameras;

/// <summary>How an auditorium is lit as the camera sees it.</summary>
public enum LightingMode
{
    /// <summary>Lights up: a colour picture with normal contrast.</summary>
    Colour = 0,

    /// <summary>House lights down (trailers, feature): a colour picture, dark and low in contrast.</summary>
    Dim = 1,

    /// <summary>The camera's infrared night mode: a grey picture (often noisy), whatever the brightness.</summary>
    Infrared = 2,
}

/// <summary>What the lighting probe measured (on a downscaled copy).</summary>
/// <param name="Brightness">Mean luma 0..255.</param>
/// <param name="Colourfulness">Mean chroma (distance from grey in Lab a/b units): near 0 for an infrared (grey) picture.</param>
/// <param name="Contrast">Standard deviation of luma.</param>
public sealed record LightingMeasurements(double Brightness, double Colourfulness, double Contrast);

public sealed record LightingOptions
{
    /// <summary>Below this mean chroma the picture is grey: infrared mode.</summary>
    public double GreyBelowColourfulness { get; init; } = 3.0;

    /// <summary>Below this mean luma a colour picture is dim.</summary>
    public double DimBelowBrightness { get; init; } = 70;

    /// <summary>A colour picture with contrast below this is treated as dim too (flat, murky light).</summary>
    public double DimBelowContrast { get; init; } = 28;

    /// <summary>A change of mode is reported after this many analyses agree (no flapping at dusk).</summary>
    public int ChangeAfter { get; init; } = 3;
}

/// <summary>
/// The lighting mode of one frame (pure). Grey beats dark: an infrared picture can be bright. Detection normalises
/// contrast in dim and infrared modes; the empty-hall reference is kept per mode; camera health reports the mode.
/// </summary>
public static class LightingClassifier
{
    public static LightingMode Classify(LightingMeasurements m, LightingOptions? options = null)
    {
        options ??= DefaultOptions;
        if (m.Colourfulness < options.GreyBelowColourfulness) return LightingMode.Infrared;
        return m.Brightness < options.DimBelowBrightness || m.Contrast < options.DimBelowContrast ? LightingMode.Dim : LightingMode.Colour;
    }

    private static readonly LightingOptions DefaultOptions = new();

    /// <summary>The name used in files, routes and reports: <c>lit</c>, <c>dim</c>, <c>infrared</c>.</summary>
    public static string Name(LightingMode mode) => mode switch
    {
        LightingMode.Dim => "dim",
        LightingMode.Infrared => "infrared",
        _ => "lit",
    };

    public static bool TryParse(string? name, out LightingMode mode)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "lit" or "colour" or "color": mode = LightingMode.Colour; return true;
            case "dim": mode = LightingMode.Dim; return true;
            case "infrared" or "ir": mode = LightingMode.Infrared; return true;
            default: mode = default; return false;
        }
    }
}

/// <summary>A camera's lighting mode over time, with hysteresis: the reported mode changes only after several analyses agree (pure).</summary>
public sealed class LightingModeTracker(LightingOptions? options = null)
{
    private readonly LightingOptions _options = options ?? new LightingOptions();
    private LightingMode? _candidate;
    private int _agreeing;

    public LightingMode? Mode { get; private set; }

    /// <summary>Feeds one frame's measurements; returns the new mode when it changed, else null.</summary>
    public LightingMode? Observe(LightingMeasurements m)
    {
        var seen = LightingClassifier.Classify(m, _options);
        if (Mode is null)
        {
            Mode = seen;
            return seen;
        }

        if (seen == Mode)
        {
            _candidate = null;
            _agreeing = 0;
            return null;
        }

        _agreeing = seen == _candidate ? _agreeing + 1 : 1;
        _candidate = seen;
        if (_agreeing < _options.ChangeAfter) return null;
        Mode = seen;
        _candidate = null;
        _agreeing = 0;
        return seen;
    }
}

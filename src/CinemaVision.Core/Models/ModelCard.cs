using System.Globalization;

namespace CinemaVision.Core.Models;

/// <summary>
/// What is known about a model version: where it came from (base model, training data and its manifest, epochs),
/// what it was measured at, and the promotion gate's verdict. Written beside every registered model and uploaded with
/// it to the centre, so an auditorium's model can always be traced to its data.
/// </summary>
public sealed record ModelCard
{
    public required string Name { get; init; }

    public required string Version { get; init; }

    public string? BaseModel { get; init; }

    /// <summary>What the training data was (a site's own frames, a labelled export): shown to whoever rolls it out.</summary>
    public string? Data { get; init; }

    /// <summary>The data manifest the model was trained on (path or content hash of manifest.json / tiles.csv).</summary>
    public string? DataManifest { get; init; }

    public int? Epochs { get; init; }

    public string? Licence { get; init; }

    public string? Notes { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Figures measured on a labelled set (ap50, ap50_95, precision, recall, count_mae, ...) by key.</summary>
    public IReadOnlyDictionary<string, double> Results { get; init; } = new Dictionary<string, double>(StringComparer.Ordinal);

    /// <summary>The labelled set the results were measured on.</summary>
    public string? EvaluatedOn { get; init; }

    public GateDecision? Gate { get; init; }
}

/// <summary>A version of a model as the registry (local or central) lists it.</summary>
public sealed record ModelVersionInfo
{
    public required string Name { get; init; }

    public required string Version { get; init; }

    public required string Sha256 { get; init; }

    public long Bytes { get; init; }

    /// <summary>candidate (registered, not promoted), promoted (passed the gate), rejected (failed it).</summary>
    public string Status { get; init; } = ModelStatus.Candidate;

    public ModelCard? Card { get; init; }
}

public static class ModelStatus
{
    public const string Candidate = "candidate";
    public const string Promoted = "promoted";
    public const string Rejected = "rejected";
}

/// <summary>Figures of one model on a labelled set, as the gate compares them.</summary>
public sealed record GateFigures(double? Ap50, double? Ap50To95, double Precision, double Recall, double CountMae, int Frames);

/// <summary>
/// The promotion gate's margins: a candidate is promoted only when it is not worse than the current model by more
/// than these on the same labelled set (and, when <see cref="MinimumGain"/> is set, better on AP50, or F1 without
/// AP, by at least that). Stated here, printed with every decision.
/// </summary>
public sealed record GateMargins
{
    /// <summary>AP50 (IoU 0.5) may not drop at all beyond measurement noise.</summary>
    public double Ap50 { get; init; } = 0.005;

    public double Ap50To95 { get; init; } = 0.01;

    public double Precision { get; init; } = 0.02;

    public double Recall { get; init; } = 0.01;

    /// <summary>People per frame the mean absolute count error may grow.</summary>
    public double CountMae { get; init; } = 0.25;

    /// <summary>0: a candidate not worse beyond the margins is promoted; raise it to demand a real improvement in AP50 (or F1).</summary>
    public double MinimumGain { get; init; }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"ap50 -{Ap50:0.###}, ap50_95 -{Ap50To95:0.###}, precision -{Precision:0.###}, recall -{Recall:0.###}, count_mae +{CountMae:0.##}, gain >= {MinimumGain:0.###}");
}

/// <summary>One figure's comparison.</summary>
public sealed record GateCheck(string Figure, double? Candidate, double? Current, double Margin, bool Passed);

/// <summary>The gate's verdict with every check, for the console and the model card.</summary>
public sealed record GateDecision(bool Promote, IReadOnlyList<GateCheck> Checks, string Summary, string Margins);

/// <summary>The promotion gate: pure, table-tested, the same for `cvtools models import` and training code.</summary>
public static class PromotionGate
{
    public static GateDecision Decide(GateFigures candidate, GateFigures? current, GateMargins? margins = null)
    {
        margins ??= new GateMargins();
        if (current is null)
        {
            return new GateDecision(true, [], "no current model to compare with: promoted as the first of its kind", margins.ToString());
        }

        if (candidate.Frames != current.Frames)
        {
            return new GateDecision(false, [], $"measured on different sets ({candidate.Frames} vs {current.Frames} frames): not comparable", margins.ToString());
        }

        var checks = new List<GateCheck>
        {
            Higher("ap50", candidate.Ap50, current.Ap50, margins.Ap50),
            Higher("ap50_95", candidate.Ap50To95, current.Ap50To95, margins.Ap50To95),
            Higher("precision", candidate.Precision, current.Precision, margins.Precision),
            Higher("recall", candidate.Recall, current.Recall, margins.Recall),
            new("count_mae", candidate.CountMae, current.CountMae, margins.CountMae, candidate.CountMae <= current.CountMae + margins.CountMae),
        };

        double gain = candidate.Ap50 is { } a && current.Ap50 is { } b ? a - b : F1(candidate) - F1(current);
        if (margins.MinimumGain > 0) checks.Add(new GateCheck(candidate.Ap50 is not null ? "gain (ap50)" : "gain (f1)", gain, null, margins.MinimumGain, gain >= margins.MinimumGain));
        var failed = checks.Where(c => !c.Passed).Select(c => c.Figure).ToList();
        return failed.Count == 0
            ? new GateDecision(true, checks, string.Create(CultureInfo.InvariantCulture, $"promoted: no figure worse beyond its margin, gain {gain:+0.000;-0.000;0}"), margins.ToString())
            : new GateDecision(false, checks, "refused: worse than the current model on " + string.Join(", ", failed), margins.ToString());
    }

    private static GateCheck Higher(string figure, double? candidate, double? current, double margin) =>
        new(figure, candidate, current, margin, candidate is null || current is null || candidate.Value >= current.Value - margin);

    private static double F1(GateFigures f) => f.Precision + f.Recall == 0 ? 0 : 2 * f.Precision * f.Recall / (f.Precision + f.Recall);
}

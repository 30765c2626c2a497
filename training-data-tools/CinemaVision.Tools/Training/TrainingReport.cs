using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CinemaVision.Tools.Training;

/// <summary>Under which terms the training images may be used; the model card and the training report say it.</summary>
public enum DataTerms
{
    /// <summary>Nobody said: the card asks for it to be confirmed before a roll-out.</summary>
    Undeclared,

    /// <summary>Footage of the site's own cameras.</summary>
    SiteOwned,

    /// <summary>Data the site may train on and ship the result of.</summary>
    Licensed,

    /// <summary>For development and evaluation only: the weights are never shipped or rolled out.</summary>
    ResearchOnly,
}

/// <summary>
/// The training record of a model trained here, beside its registered weights (<c>VERSION.training.json</c> for
/// tools, <c>VERSION.training.md</c> for people): what it started from, what data it saw (by name, with a manifest of
/// every image's hash), how it was trained (epochs, steps, time per epoch, tiles/s, losses), how it measured against
/// the base model, and its limits. The registry's model card (<see cref="Core.Models.ModelCard"/>) carries the summary
/// and points here.
/// </summary>
public sealed record TrainingReport
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public required string Name { get; init; }
    public required DateTimeOffset Created { get; init; }
    public required string Task { get; init; }
    public required BaseModelInfo BaseModel { get; init; }
    public required TrainingData Data { get; init; }
    public required TrainingRun Training { get; init; }
    public MeasuredResults? Results { get; init; }
    public required string Interface { get; init; }
    public required IReadOnlyList<string> Limits { get; init; }

    /// <summary>The terms as the command line spells them.</summary>
    public static string TermsText(DataTerms terms) => terms switch
    {
        DataTerms.SiteOwned => "site-owned",
        DataTerms.Licensed => "licensed",
        DataTerms.ResearchOnly => "research-only",
        _ => "undeclared",
    };

    /// <summary>True when the data terms allow rolling the model out (site-owned or licensed).</summary>
    public bool Shippable => Data.Terms is DataTerms.SiteOwned or DataTerms.Licensed;

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        void Line(string text = "") => md.Append(text).Append('\n');
        string F(double v, string format = "0.###") => v.ToString(format, CultureInfo.InvariantCulture);
        Line($"# Training report: {Name}");
        Line();
        Line($"{Task}. Trained {Created:yyyy-MM-dd HH:mm} UTC by `cvtools train`.");
        Line();
        if (!Shippable)
        {
            Line(Data.Terms == DataTerms.ResearchOnly
                ? "**Not for roll-out: trained on research-only data. Use it for development and evaluation on this machine; never ship these weights.**"
                : "**Data terms not declared: confirm the site owns or may use the training images before rolling this model out.**");
            Line();
        }

        Line("## Base model");
        Line();
        Line($"`{BaseModel.Name}` version {BaseModel.Version} (sha256 `{BaseModel.Sha256}`), licence {BaseModel.Licence ?? "not stated"}.");
        if (BaseModel.Provenance is not null) Line($"Provenance: {BaseModel.Provenance}");
        Line();
        Line("## Data");
        Line();
        Line($"- annotations: `{Data.Annotations}` ({Data.Format}), images: `{Data.Images}`");
        Line($"- {Data.ImageCount} images, {Data.BoxCount} '{Data.Class}' boxes; terms: {TermsText(Data.Terms)}");
        Line($"- data manifest: `{Data.Manifest}` (every image with its sha256 and box count), sha256 `{Data.ManifestSha256}`");
        Line($"- tiles: sizes {string.Join(", ", Data.TileSizes)} px, overlap {F(Data.TileOverlap, "0.##")}, {Data.TileCount} tiles");
        if (Data.Validation is { } v) Line($"- validation: `{v.Annotations}` with `{v.Images}`: {v.ImageCount} images, {v.BoxCount} boxes");
        Line();
        Line("## Training");
        Line();
        var t = Training;
        Line($"- {t.EpochsCompleted} epochs{(t.EpochsPlanned is { } p ? $" of {p} planned" : "")}, {t.Steps} steps of {t.Batch} crops of {t.Crop} px, ended: {t.Status}");
        Line($"- {F(t.TrainSeconds / 60, "0.0")} minutes of training on {t.Threads} threads ({t.Cores} cores), {F(t.TilesPerSecond ?? 0, "0.0")} tiles/s");
        if (t.SecondsPerEpoch.Count > 0) Line($"- seconds per epoch: {string.Join(", ", t.SecondsPerEpoch.Select(s => F(s, "0")))}");
        if (t.EpochLosses.Count > 0) Line($"- mean loss per epoch: {string.Join(", ", t.EpochLosses.Select(l => F(l, "0.000")))}");
        if (t.ValidationLosses.Count > 0)
        {
            Line($"- validation loss per epoch: {string.Join(", ", t.ValidationLosses.Select(l => F(l, "0.000")))}; exported: {(t.BestEpoch is { } best ? $"epoch {best} (lowest validation loss)" : "the latest weights (lowest validation loss)")}");
        }
        if (t.Calibration is { } c)
        {
            Line($"- calibrated on {c.Frames} validation frames: the best F1 ({F(c.F1, "0.000")}: precision {F(c.Precision, "0.000")}, recall {F(c.Recall, "0.000")}) was at score {F(c.Best, "0.00")}; head logits shifted by {F(c.Shift, "+0.000;-0.000")} so that the product's threshold {F(c.Operating, "0.00")} sits there");
        }

        Line($"- trainer: {t.Trainer}");
        Line();
        Line("## Measured");
        Line();
        if (Results is { } r)
        {
            Line($"On {r.On}: {r.Frames} frames, class {Data.Class}, match {r.Match}, tiling {r.Tiling} (the import gate's measurement: {r.Verdict}).");
            Line();
            Line("| model | precision | recall | count MAE | AP50 |");
            Line("|---|---|---|---|---|");
            foreach (var (name, m) in new[] { (BaseModel.Name + " (base)", r.Base), (Name, r.Trained) })
            {
                Line($"| {name} | {F(m.Precision, "0.000")} | {F(m.Recall, "0.000")} | {F(m.CountMae, "0.00")} | {(m.Ap50 is { } ap ? F(ap, "0.000") : "-")} |");
            }
        }
        else
        {
            Line("Not measured: no validation set was given (`--val`).");
        }

        Line();
        Line("## Interface");
        Line();
        Line(Interface);
        Line();
        Line("## Limits");
        Line();
        foreach (var l in Limits) Line($"- {l}");
        return md.ToString();
    }
}

public sealed record BaseModelInfo(string Name, string Version, string Sha256, string? Licence, string? Provenance);

public sealed record TrainingData
{
    public required string Annotations { get; init; }
    public required string Format { get; init; }
    public required string Images { get; init; }
    public required int ImageCount { get; init; }
    public required int BoxCount { get; init; }
    public required string Class { get; init; }
    public required DataTerms Terms { get; init; }
    public required string Manifest { get; init; }
    public required string ManifestSha256 { get; init; }
    public required IReadOnlyList<int> TileSizes { get; init; }
    public required double TileOverlap { get; init; }
    public required int TileCount { get; init; }
    public ValidationData? Validation { get; init; }
}

public sealed record ValidationData(string Annotations, string Images, int ImageCount, int BoxCount);

public sealed record TrainingRun
{
    public int? EpochsPlanned { get; init; }
    public required int EpochsCompleted { get; init; }
    public required int Steps { get; init; }
    public required int Batch { get; init; }
    public required int Crop { get; init; }
    public required double TrainSeconds { get; init; }
    public required IReadOnlyList<double> SecondsPerEpoch { get; init; }
    public double? TilesPerSecond { get; init; }
    public required int Threads { get; init; }
    public required int Cores { get; init; }
    public required string Status { get; init; }
    public required IReadOnlyList<double> EpochLosses { get; init; }
    public IReadOnlyList<double> ValidationLosses { get; init; } = [];
    public int? BestEpoch { get; init; }
    public required string Trainer { get; init; }
    public TrainerCalibration? Calibration { get; init; }
}

public sealed record MeasuredResults(string On, int Frames, string Tiling, string Match, Metrics Base, Metrics Trained, string Verdict);

public sealed record Metrics(double Precision, double Recall, double CountMae, double? Ap50);

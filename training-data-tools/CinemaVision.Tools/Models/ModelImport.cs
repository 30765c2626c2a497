using CinemaVision.Core.Models;
using CinemaVision.Tools.Commands;
using CinemaVision.Tools.Evaluation;
using CinemaVision.Vision.Detectors;
using CinemaVision.Vision.Models;

namespace CinemaVision.Tools.Models;

/// <summary>A labelled set the gate measures on, and how.</summary>
public sealed record GateSet(string Input, string GroundTruth, string? GroundTruthFormat, Core.Detections.ObjectClass Class, Core.Evaluation.MatchCriterion Criterion = Core.Evaluation.MatchCriterion.IoU,
    TilingMode Tiling = TilingMode.Tiled, int Frames = int.MaxValue, int Step = 1, IReadOnlyList<Core.Geometry.BoxF>? IgnoreRegions = null);

/// <summary>What an import did.</summary>
public sealed record ImportResult(RegisteredModel Model, GateDecision? Decision, GateFigures? Candidate, GateFigures? Current, string? CurrentName);

/// <summary>
/// Registers a new model and decides its promotion: the ONNX file is checked against its declared input and classes
/// (<see cref="ModelRegistry.Register"/>), both it and the current model are evaluated on the same labelled set with
/// the same tiling, and the <see cref="PromotionGate"/> promotes it or refuses it, recorded on its model card. The C#
/// API behind <c>cvtools models import</c>, for training code that registers what it trained.
/// </summary>
public static class ModelImport
{
    /// <param name="current">The model to beat: a shipped or registered name; null = the promoted version of the same name, else the card's base model.</param>
    public static ImportResult Run(string onnxFile, ModelManifest manifest, ModelCard card, GateSet? gate, string? current, GateMargins? margins = null, ModelRegistry? registry = null)
    {
        registry ??= ModelRegistry.Default;
        var previous = registry.Current(manifest.Name) is { Status: ModelStatus.Promoted } p ? $"{p.Manifest.Name}:{p.Manifest.Version}" : null;
        var registered = registry.Register(onnxFile, manifest, card with { CreatedAt = card.CreatedAt == default ? DateTimeOffset.UtcNow : card.CreatedAt },
            ModelCatalog.Default.Models.Select(m => m.Name).ToList());
        var candidateName = $"{registered.Manifest.Name}:{registered.Manifest.Version}";
        if (gate is null) return new ImportResult(registered, null, null, null, null);

        current ??= previous ?? card.BaseModel;
        var truth = new EvalCommand.GroundTruthCache(gate.GroundTruth, gate.GroundTruthFormat, gate.Class, Commands.FrameInputs.ResolveSequence(gate.Input).Source);
        var settings = new EvalSettings(gate.Class, gate.Criterion, 0.5f, gate.IgnoreRegions ?? [], gate.Frames, gate.Step);
        var source = Commands.FrameInputs.ResolveSequence(gate.Input).Source;
        var candidate = EvalRunner.Run(candidateName, Options(candidateName, gate), source, truth, settings);
        Measured? baseline = current is null ? null : EvalRunner.Run(current, Options(current, gate), source, truth, settings);
        var decision = PromotionGate.Decide(candidate.GateFigures, baseline?.GateFigures, margins);
        var results = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["precision"] = Math.Round(candidate.Result.Precision, 4),
            ["recall"] = Math.Round(candidate.Result.Recall, 4),
            ["count_mae"] = Math.Round(candidate.Result.CountMae, 4),
            ["frames"] = candidate.Result.Frames,
        };
        if (candidate.Ap.Ap50 is { } ap50) results["ap50"] = Math.Round(ap50, 4);
        if (candidate.Ap.Ap50To95 is { } ap) results["ap50_95"] = Math.Round(ap, 4);
        var updated = registry.SetStatus(registered.Manifest.Name, registered.Manifest.Version, decision.Promote ? ModelStatus.Promoted : ModelStatus.Rejected,
            registered.Card with { Results = results, EvaluatedOn = $"{gate.Input} ({gate.GroundTruth}, class {Core.Detections.ObjectClassNames.ToLabel(gate.Class)}, {gate.Tiling.ToString().ToLowerInvariant()})", Gate = decision });
        return new ImportResult(updated, decision, candidate.GateFigures, baseline?.GateFigures, current);
    }

    private static DetectionOptions Options(string model, GateSet gate) => new() { Model = model, Tiling = gate.Tiling, FullFrame = true };
}

using System.Text.Json;

namespace CinemaVision.Tools.Training;

/// <summary>The trainer's <c>result.json</c>: what a run did (its keys are the trainer's, snake_case).</summary>
public sealed record TrainerResult
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public required string Status { get; init; }
    public string? Model { get; init; }
    public string? ModelSha256 { get; init; }
    public required string DataFingerprint { get; init; }
    public required int ImagesCount { get; init; }
    public required int Boxes { get; init; }
    public int? EpochsPlanned { get; init; }
    public required int EpochsCompleted { get; init; }
    public required int Steps { get; init; }
    public required int StepsPerEpoch { get; init; }
    public required int Batch { get; init; }
    public required int Crop { get; init; }
    public required double TrainSeconds { get; init; }
    public IReadOnlyList<double> SecondsPerEpoch { get; init; } = [];
    public double? TilesPerSecond { get; init; }
    public required int Threads { get; init; }
    public IReadOnlyList<double> EpochLosses { get; init; } = [];
    public IReadOnlyList<double> ValLosses { get; init; } = [];
    public int? BestEpoch { get; init; }
    public IReadOnlyList<double> Losses { get; init; } = [];
    public int? ResumedFromStep { get; init; }
    public TrainerCalibration? Calibration { get; init; }

    public static TrainerResult Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainerResult>(File.ReadAllText(path), Json)
                ?? throw new InvalidDataException($"{path} is empty.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The trainer's result {path} is not valid: {ex.Message}", ex);
        }
    }
}

/// <summary>How the exported scores were calibrated to the product's threshold on the validation frames.</summary>
public sealed record TrainerCalibration(double Operating, double Best, double Shift, double Precision, double Recall, double F1, int Frames);

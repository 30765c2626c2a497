using System.Text.Json;
using CinemaVision.Tools.Tests.Infrastructure;
using CinemaVision.Tools.Training;
using CinemaVision.Vision.Assets;
using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;
using Xunit.Abstractions;

namespace CinemaVision.Tools.Tests.Training;

/// <summary>
/// The PyTorch network the trainer fine-tunes and the ONNX graph the edge runs (ONNX Runtime, from C#) give the same
/// outputs on a fixed real input: for the shipped head model, and for the export of a short real training run. The
/// short run is also the CI smoke test of the trainer: the loss on fixed validation crops falls.
/// </summary>
public sealed class TrainerParityTests(ITestOutputHelper output) : IDisposable
{
    private const float Tolerance = 1e-4f;
    private readonly string _dir = Directory.CreateTempSubdirectory("cv-parity-").FullName;

    private static string HeadModel => AssetLocator.Resolve("models/lffd_head_v1_brainwash.onnx");

    [Fact]
    public void OnnxRuntimeAndPyTorch_GiveTheSameOutputs_OnTheShippedHeadModel()
    {
        var (input, shape) = FixedInput();
        var trainer = PythonTrainer.Locate();
        var torch = PyTorchOutputs(trainer, ["--model", HeadModel], input, shape);
        var ort = OnnxRuntimeOutputs(HeadModel, input, shape);

        AssertSame(ort, torch);
        Assert.Equal(8, ort.Count);
        Assert.True(ort["score0"].Data.Max() > 0.5f, "the real crop holds heads the model finds");
    }

    [Fact]
    public async Task AfterAShortTrainingRun_TheExportMatchesTheTrainedPyTorchNetwork_AndTheLossFell()
    {
        var data = RealData.ClassroomSubset(Path.Combine(_dir, "voc"), 4);
        var trainer = PythonTrainer.Locate();
        var work = Path.Combine(_dir, "run");
        var lines = new List<string>();
        int exit = await trainer.RunAsync(new TrainerRequest
        {
            BaseModel = HeadModel,
            Annotations = data,
            Images = RealData.ClassroomImages,
            Format = "voc",
            WorkFolder = work,
            Validation = data, // fixed crops of the same frames: the smoke test asks whether the loss falls, not whether it generalises
            Epochs = 6,
            Batch = 4,
            Crop = 128,
            LearningRate = 0.005,
            WarmupSteps = 1,
            ValidationCrops = 16,
        }, lines.Add);
        output.WriteLine(string.Join('\n', lines));
        Assert.True(exit == 0, string.Join('\n', lines));

        using var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(work, "result.json")));
        double before = result.RootElement.GetProperty("initial_val_loss").GetDouble();
        var after = result.RootElement.GetProperty("val_losses").EnumerateArray().Select(e => e.GetDouble()).ToList();
        Assert.Equal(6, after.Count);
        Assert.True(after.Min() < before, $"validation loss before {before}, after each epoch {string.Join(", ", after)}");

        var model = Path.Combine(work, "model.onnx");
        var (input, shape) = FixedInput();
        var torch = PyTorchOutputs(trainer, ["--checkpoint", Path.Combine(work, "checkpoint.pt"), "--base", HeadModel], input, shape);
        var ort = OnnxRuntimeOutputs(model, input, shape);
        AssertSame(ort, torch);

        var untrained = OnnxRuntimeOutputs(HeadModel, input, shape);
        Assert.True(MaxDifference(untrained["score0"].Data, ort["score0"].Data) > 1e-3, "training changed the weights that were exported");
        using var session = new InferenceSession(model);
        Assert.Equal(["data"], session.InputNames);
        Assert.Equal(["score0", "bbox0", "score1", "bbox1", "score2", "bbox2", "score3", "bbox3"], session.OutputNames);
        Assert.Equal([1, 3, -1, -1], session.InputMetadata["data"].Dimensions);
    }

    /// <summary>A 320x240 crop of a real classroom frame as BGR 0..255, NCHW: the layout the edge feeds the model.</summary>
    private static (float[] Data, long[] Shape) FixedInput()
    {
        using var frame = Cv2.ImRead(Path.Combine(RealData.ClassroomImages, "PartA_00000.jpg"), ImreadModes.Color);
        using var crop = new Mat(frame, new Rect(380, 60, 320, 240));
        var data = new float[3 * 240 * 320];
        for (int y = 0; y < 240; y++)
        {
            for (int x = 0; x < 320; x++)
            {
                var p = crop.At<Vec3b>(y, x);
                for (int c = 0; c < 3; c++) data[(c * 240 * 320) + (y * 320) + x] = p[c];
            }
        }

        return (data, [1, 3, 240, 320]);
    }

    private Dictionary<string, (float[] Data, long[] Shape)> PyTorchOutputs(PythonTrainer trainer, string[] model, float[] input, long[] shape)
    {
        var inputFile = Path.Combine(_dir, "input.bin");
        File.WriteAllBytes(inputFile, System.Runtime.InteropServices.MemoryMarshal.AsBytes(input.AsSpan()).ToArray());
        var outDir = Path.Combine(_dir, "torch-" + Guid.NewGuid().ToString("N"));
        var (exit, text) = trainer.RunQuiet(["-m", "cvtrain", "infer", .. model, "--input", inputFile, "--shape", string.Join(',', shape), "--out", outDir], TimeSpan.FromMinutes(5));
        Assert.True(exit == 0, text);
        var shapes = JsonSerializer.Deserialize<Dictionary<string, long[]>>(File.ReadAllText(Path.Combine(outDir, "outputs.json")))!;
        return shapes.ToDictionary(kv => kv.Key, kv => (System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(outDir, kv.Key + ".bin"))).ToArray(), kv.Value));
    }

    private static Dictionary<string, (float[] Data, long[] Shape)> OnnxRuntimeOutputs(string model, float[] input, long[] shape)
    {
        using var session = new InferenceSession(model);
        using var tensor = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, ["data"], [tensor], session.OutputNames);
        var outputs = new Dictionary<string, (float[], long[])>();
        for (int i = 0; i < results.Count; i++)
        {
            outputs[session.OutputNames[i]] = (results[i].GetTensorDataAsSpan<float>().ToArray(), results[i].GetTensorTypeAndShape().Shape);
        }

        return outputs;
    }

    private void AssertSame(Dictionary<string, (float[] Data, long[] Shape)> ort, Dictionary<string, (float[] Data, long[] Shape)> torch)
    {
        Assert.Equal(ort.Keys.Order(), torch.Keys.Order());
        foreach (var (name, (data, shape)) in ort)
        {
            Assert.Equal(shape, torch[name].Shape);
            float diff = MaxDifference(data, torch[name].Data);
            output.WriteLine($"{name} [{string.Join(',', shape)}]: max |ONNX Runtime - PyTorch| = {diff:E2}");
            Assert.True(diff <= Tolerance, $"{name}: max difference {diff} exceeds {Tolerance}");
        }
    }

    private static float MaxDifference(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        float max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

using System.Collections.Concurrent;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Geometry;
using CinemaVision.Vision.Imaging;
using CinemaVision.Vision.Models;
using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;

namespace CinemaVision.Vision.Detectors;

/// <summary>Threading of an ONNX Runtime session.</summary>
public sealed record OnnxThreading(int IntraOpThreads = 1, int InterOpThreads = 1, bool AllowSpinning = false);

/// <summary>
/// One ONNX model loaded once into one <see cref="InferenceSession"/>, checked against its manifest, with a pool of
/// pre-allocated input/output buffers wrapped as <see cref="OrtValue"/>s. <see cref="InferenceSession.Run(RunOptions, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue}, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue})"/>
/// is thread-safe, so concurrent callers each rent their own buffers and run without a lock.
/// </summary>
public sealed class OnnxModelSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly long[][] _outputShapes;
    private readonly ConcurrentBag<InferenceBuffers> _pool = [];
    private readonly Letterbox.Convention _convention;

    private OnnxModelSession(ModelManifest manifest, InferenceSession session, SizeI inputSize, string[] outputNames, long[][] outputShapes, int classCount)
    {
        Manifest = manifest;
        _session = session;
        InputSize = inputSize;
        _inputNames = [manifest.Input.Name];
        _outputNames = outputNames;
        _outputShapes = outputShapes;
        ClassCount = classCount;
        ClassMap = manifest.ResolveClassMap();
        var input = manifest.Input;
        _convention = new Letterbox.Convention(
            Stretch: string.Equals(input.Resize, "stretch", StringComparison.OrdinalIgnoreCase),
            CenterAnchor: string.Equals(input.Anchor, "center", StringComparison.OrdinalIgnoreCase),
            PadValue: input.PadValue,
            Rgb: string.Equals(input.ColorOrder, "rgb", StringComparison.OrdinalIgnoreCase),
            Mean: [.. input.Mean],
            InverseStd: [.. input.Std.Select(s => 1f / s)]);
    }

    public ModelManifest Manifest { get; }

    /// <summary>The model's input size, read from the model itself.</summary>
    public SizeI InputSize { get; }

    /// <summary>Number of classes, read from the model's output.</summary>
    public int ClassCount { get; }

    public IReadOnlyList<ObjectClass> ClassMap { get; }

    public IReadOnlyList<long[]> OutputShapes => _outputShapes;

    internal Letterbox.Convention Convention => _convention;

    public DetectorInfo Info => new(Manifest.Name, Manifest.Version, InputSize, Manifest.ClassNames, ClassMap);

    /// <summary>
    /// Loads and checks a model. Every failure (missing file, wrong hash, unreadable graph, input or output not as
    /// the manifest says) is a <see cref="ModelAssetException"/> naming the model and the mismatch.
    /// </summary>
    public static OnnxModelSession Open(ModelManifest manifest, string? path = null, OnnxThreading? threading = null, bool verifyHash = true)
    {
        path ??= ModelCatalog.ResolveFile(manifest);
        if (!File.Exists(path)) throw new ModelAssetException(manifest.Name, $"weights file {path} does not exist");
        if (verifyHash)
        {
            var actual = AssetFetcher.HashAsync(path, CancellationToken.None).GetAwaiter().GetResult();
            if (!string.Equals(actual, manifest.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new ModelAssetException(manifest.Name, $"sha256 of {path} is {actual}, the manifest expects {manifest.Sha256} (corrupt, truncated or a different model); run './cvtools models fetch'");
            }
        }

        threading ??= new OnnxThreading();
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threading.IntraOpThreads,
            InterOpNumThreads = threading.InterOpThreads,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", threading.AllowSpinning ? "1" : "0");

        InferenceSession session;
        try
        {
            session = new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelAssetException(manifest.Name, $"ONNX Runtime cannot load {path}: {ex.Message}", ex);
        }

        try
        {
            return Validate(manifest, session);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static OnnxModelSession Validate(ModelManifest manifest, InferenceSession session)
    {
        var expected = manifest.Input;
        if (!session.InputMetadata.TryGetValue(expected.Name, out var input))
        {
            throw new ModelAssetException(manifest.Name, $"the manifest names input '{expected.Name}' but the model's inputs are: {string.Join(", ", session.InputNames)}");
        }

        if (input.ElementType != typeof(float))
        {
            throw new ModelAssetException(manifest.Name, $"input '{expected.Name}' is {input.ElementType.Name}, expected float32");
        }

        var dims = input.Dimensions;
        if (dims.Length != 4 || expected.Shape.Count != 4)
        {
            throw new ModelAssetException(manifest.Name, $"input '{expected.Name}' has shape [{string.Join(",", dims)}], expected NCHW [{string.Join(",", expected.Shape)}]");
        }

        for (int i = 0; i < 4; i++)
        {
            if (dims[i] > 0 && dims[i] != expected.Shape[i])
            {
                throw new ModelAssetException(manifest.Name, $"input '{expected.Name}' has shape [{string.Join(",", dims)}] but the manifest says [{string.Join(",", expected.Shape)}]");
            }
        }

        if ((dims[1] > 0 ? dims[1] : expected.Shape[1]) != 3)
        {
            throw new ModelAssetException(manifest.Name, "input must have 3 colour channels");
        }

        var inputSize = new SizeI(dims[3] > 0 ? dims[3] : expected.Shape[3], dims[2] > 0 ? dims[2] : expected.Shape[2]);
        var outputNames = session.OutputNames.ToArray();
        var outputShapes = outputNames.Select(n => session.OutputMetadata[n].Dimensions.Select(d => (long)d).ToArray()).ToArray();

        int classCount;
        switch (manifest.Decoder.ToLowerInvariant())
        {
            case "yolox":
            {
                if (outputShapes.Length != 1 || outputShapes[0].Length != 3)
                {
                    throw new ModelAssetException(manifest.Name, $"a YOLOX model has one output [1, anchors, 5 + classes]; this one has {Describe(outputNames, outputShapes)}");
                }

                long anchors = manifest.Strides.Sum(s => (long)(inputSize.Width / s) * (inputSize.Height / s));
                var shape = outputShapes[0];
                if (shape[1] > 0 && shape[1] != anchors)
                {
                    throw new ModelAssetException(manifest.Name, $"output has {shape[1]} anchors; strides {string.Join("/", manifest.Strides)} at {inputSize} give {anchors}");
                }

                classCount = (int)shape[2] - 5;
                shape[1] = anchors;
                break;
            }

            case "ultraface":
            {
                if (!outputNames.Contains("scores") || !outputNames.Contains("boxes"))
                {
                    throw new ModelAssetException(manifest.Name, $"an UltraFace model has outputs 'scores' and 'boxes'; this one has {Describe(outputNames, outputShapes)}");
                }

                classCount = (int)outputShapes[Array.IndexOf(outputNames, "scores")][2];
                break;
            }

            default:
                throw new ModelAssetException(manifest.Name, $"unknown decoder kind '{manifest.Decoder}' (known: yolox, ultraface)");
        }

        if (classCount != manifest.ClassNames.Count)
        {
            throw new ModelAssetException(manifest.Name, $"the model outputs {classCount} classes but the manifest names {manifest.ClassNames.Count}");
        }

        foreach (var shape in outputShapes)
        {
            if (shape[0] <= 0) shape[0] = 1;
            if (shape.Any(d => d <= 0)) throw new ModelAssetException(manifest.Name, $"output shape [{string.Join(",", shape)}] has dynamic dimensions this decoder cannot size");
        }

        return new OnnxModelSession(manifest, session, inputSize, outputNames, outputShapes, classCount);
    }

    private static string Describe(string[] names, long[][] shapes) =>
        string.Join(", ", names.Select((n, i) => $"{n} [{string.Join(",", shapes[i])}]"));

    /// <summary>Rents a set of input/output buffers (created on first use, then reused).</summary>
    public InferenceBuffers Rent() => _pool.TryTake(out var b) ? b : new InferenceBuffers(this);

    public void Return(InferenceBuffers buffers) => _pool.Add(buffers);

    /// <summary>Letterboxes (or stretches) a region of a BGR frame into the buffers' input tensor, per the model's convention.</summary>
    public LetterboxTransform Prepare(InferenceBuffers buffers, Mat bgr, RectI region) =>
        Letterbox.Write(bgr, region, buffers.Canvas, buffers.Input, _convention, buffers.Planar);

    /// <summary>Runs the model on the buffers' input; results land in the buffers' outputs.</summary>
    public void Run(InferenceBuffers buffers) =>
        _session.Run(_runOptions, _inputNames, buffers.InputValues, _outputNames, buffers.OutputValues);

    public void Dispose()
    {
        while (_pool.TryTake(out var b)) b.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }

    /// <summary>Pre-allocated tensors for one inference at a time, plus a letterbox canvas and a candidate list.</summary>
    public sealed class InferenceBuffers : IDisposable
    {
        internal InferenceBuffers(OnnxModelSession model)
        {
            var size = model.InputSize;
            Input = GC.AllocateArray<float>(3 * size.Width * size.Height, pinned: true);
            Planar = new Letterbox.PlanarTarget(Input, size.Width, size.Height);
            InputValues = [OrtValue.CreateTensorValueFromMemory(Input, [1, 3, size.Height, size.Width])];
            Outputs = new float[model._outputShapes.Length][];
            var values = new OrtValue[model._outputShapes.Length];
            for (int i = 0; i < values.Length; i++)
            {
                var shape = model._outputShapes[i];
                Outputs[i] = new float[shape.Aggregate(1L, (a, d) => a * d)];
                values[i] = OrtValue.CreateTensorValueFromMemory(Outputs[i], shape);
            }

            OutputValues = values;
            OutputNames = model._outputNames;
            Canvas = new Mat(size.Height, size.Width, MatType.CV_8UC3, Scalar.All(model.Manifest.Input.PadValue));
        }

        public float[] Input { get; }
        internal OrtValue[] InputValues { get; }
        public float[][] Outputs { get; }
        internal OrtValue[] OutputValues { get; }
        internal string[] OutputNames { get; }
        internal Mat Canvas { get; }
        internal Letterbox.PlanarTarget Planar { get; }
        internal List<Detection> Candidates { get; } = new(256);

        public float[] Output(string name) => Outputs[Array.IndexOf(OutputNames, name)];

        public void Dispose()
        {
            foreach (var v in InputValues) v.Dispose();
            foreach (var v in OutputValues) v.Dispose();
            Canvas.Dispose();
            Planar.Dispose();
        }
    }
}

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
    private readonly ConcurrentDictionary<SizeI, ConcurrentBag<InferenceBuffers>> _pools = new();
    private readonly ConcurrentDictionary<SizeI, long> _lastUsed = new();
    private long _clock;
    private readonly ConcurrentDictionary<SizeI, long[][]> _dynamicShapes = new();
    private readonly Letterbox.Convention _convention;

    private OnnxModelSession(ModelManifest manifest, InferenceSession session, IDetectionDecoder decoder, SizeI inputSize, bool dynamicSize, string[] outputNames, long[][] outputShapes, int classCount)
    {
        Manifest = manifest;
        _session = session;
        Decoder = decoder;
        InputSize = inputSize;
        IsDynamicSize = dynamicSize;
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

    /// <summary>The output layout's decoder, named by the manifest.</summary>
    public IDetectionDecoder Decoder { get; }

    /// <summary>The model's input size, read from the model itself; for a fully convolutional model, the nominal tile from the manifest.</summary>
    public SizeI InputSize { get; }

    /// <summary>
    /// The graph accepts any height and width (fully convolutional, such as LFFD): a region runs at the scale chosen
    /// for it rather than letterboxed into one fixed size.
    /// </summary>
    public bool IsDynamicSize { get; }

    /// <summary>Number of classes, read from the model's output.</summary>
    public int ClassCount { get; }

    public IReadOnlyList<ObjectClass> ClassMap { get; }

    /// <summary>Output shapes as the graph declares them (dynamic dimensions are -1 for a fully convolutional model).</summary>
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
            // A memory pattern is planned per input shape and kept: with free input sizes it would grow with every new size.
            EnableMemoryPattern = !manifest.Input.DynamicSize,
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

        // A graph whose height and width are free is fully convolutional: each region runs at its own size, and the
        // manifest's shape is only the nominal tile.
        bool dynamic = dims[2] <= 0 && dims[3] <= 0;
        if (expected.DynamicSize && !dynamic)
        {
            throw new ModelAssetException(manifest.Name, $"the manifest says the input size is free but the graph fixes it: [{string.Join(",", dims)}]");
        }

        var inputSize = new SizeI(dims[3] > 0 ? dims[3] : expected.Shape[3], dims[2] > 0 ? dims[2] : expected.Shape[2]);
        var outputNames = session.OutputNames.ToArray();
        var outputShapes = outputNames.Select(n => session.OutputMetadata[n].Dimensions.Select(d => (long)d).ToArray()).ToArray();
        var decoder = Decoders.For(manifest);
        int classCount = decoder.CheckOutputs(manifest, outputNames, outputShapes, inputSize);
        if (classCount != manifest.ClassNames.Count)
        {
            throw new ModelAssetException(manifest.Name, $"the model outputs {classCount} classes but the manifest names {manifest.ClassNames.Count}");
        }

        if (!dynamic)
        {
            foreach (var shape in outputShapes)
            {
                if (shape.Length > 0 && shape[0] <= 0) shape[0] = 1;
                if (shape.Length > 1 && manifest.Decoder.Equals("yolox", StringComparison.OrdinalIgnoreCase) && shape[1] <= 0)
                {
                    shape[1] = manifest.Strides.Sum(s => (long)(inputSize.Width / s) * (inputSize.Height / s));
                }
            }
        }

        return new OnnxModelSession(manifest, session, decoder, inputSize, dynamic, outputNames, outputShapes, classCount);
    }

    /// <summary>Rents a set of input/output buffers of the model's input size (created on first use, then reused).</summary>
    public InferenceBuffers Rent() => Rent(InputSize);

    /// <summary>
    /// Rents buffers for an input of the given size: only a fully convolutional model accepts sizes other than its
    /// own. Buffers are pooled per size; a camera's plan uses a few sizes, so after the first frame nothing is allocated.
    /// </summary>
    public InferenceBuffers Rent(SizeI inputSize)
    {
        if (inputSize != InputSize && !IsDynamicSize)
        {
            throw new ArgumentException($"Model '{Manifest.Name}' takes {InputSize} inputs only (asked for {inputSize}).", nameof(inputSize));
        }

        _lastUsed[inputSize] = Interlocked.Increment(ref _clock);
        return _pools.GetOrAdd(inputSize, static _ => []).TryTake(out var b) ? b : new InferenceBuffers(this, inputSize);
    }

    /// <summary>Most input sizes whose buffers are kept: a camera uses a few; frames of ever-changing sizes (a folder of photos) must not hoard memory.</summary>
    public const int MaxPooledSizes = 24;

    public void Return(InferenceBuffers buffers)
    {
        _pools.GetOrAdd(buffers.InputSize, static _ => []).Add(buffers);
        if (_pools.Count <= MaxPooledSizes) return;
        // Release the buffers of the sizes used longest ago.
        foreach (var size in _lastUsed.OrderBy(kv => kv.Value).Take(_pools.Count - MaxPooledSizes).Select(kv => kv.Key).ToList())
        {
            if (size == buffers.InputSize || !_pools.TryRemove(size, out var stale)) continue;
            _lastUsed.TryRemove(size, out _);
            _dynamicShapes.TryRemove(size, out _);
            while (stale.TryTake(out var b)) b.Dispose();
        }
    }

    /// <summary>Letterboxes (or stretches) a region of a BGR frame into the buffers' input tensor, per the model's convention.</summary>
    public LetterboxTransform Prepare(InferenceBuffers buffers, Mat bgr, RectI region) =>
        Letterbox.Write(bgr, region, buffers.Canvas, buffers.Input, _convention, buffers.Planar);

    /// <summary>Runs the model on the buffers' input; results land in the buffers' outputs.</summary>
    public void Run(InferenceBuffers buffers) =>
        _session.Run(_runOptions, _inputNames, buffers.InputValues, _outputNames, buffers.OutputValues);

    /// <summary>Output shapes for one input size: declared by the graph, or for a fully convolutional model learned once by running it on that size.</summary>
    private long[][] OutputShapesFor(SizeI size, OrtValue input)
    {
        if (!IsDynamicSize) return _outputShapes;
        return _dynamicShapes.GetOrAdd(size, _ =>
        {
            using var outputs = _session.Run(_runOptions, _inputNames, [input], _outputNames);
            return [.. outputs.Select(o => o.GetTensorTypeAndShape().Shape)];
        });
    }

    public void Dispose()
    {
        foreach (var pool in _pools.Values)
        {
            while (pool.TryTake(out var b)) b.Dispose();
        }

        _runOptions.Dispose();
        _session.Dispose();
    }

    /// <summary>Pre-allocated tensors for one inference at a time, plus a letterbox canvas and a candidate list.</summary>
    public sealed class InferenceBuffers : IDisposable
    {
        private readonly long[][] _shapes;

        internal InferenceBuffers(OnnxModelSession model, SizeI size)
        {
            InputSize = size;
            Input = GC.AllocateArray<float>(3 * size.Width * size.Height, pinned: true);
            Planar = new Letterbox.PlanarTarget(Input, size.Width, size.Height);
            InputValues = [OrtValue.CreateTensorValueFromMemory(Input, [1, 3, size.Height, size.Width])];
            _shapes = model.OutputShapesFor(size, InputValues[0]);
            Outputs = new float[_shapes.Length][];
            var values = new OrtValue[_shapes.Length];
            for (int i = 0; i < values.Length; i++)
            {
                var shape = _shapes[i];
                Outputs[i] = new float[shape.Aggregate(1L, (a, d) => a * d)];
                values[i] = OrtValue.CreateTensorValueFromMemory(Outputs[i], shape);
            }

            OutputValues = values;
            OutputNames = model._outputNames;
            Canvas = new Mat(size.Height, size.Width, MatType.CV_8UC3, Scalar.All(model.Manifest.Input.PadValue));
        }

        /// <summary>The size of the input tensor these buffers hold.</summary>
        public SizeI InputSize { get; }

        public float[] Input { get; }
        internal OrtValue[] InputValues { get; }
        public float[][] Outputs { get; }
        internal OrtValue[] OutputValues { get; }
        internal string[] OutputNames { get; }
        internal Mat Canvas { get; }
        internal Letterbox.PlanarTarget Planar { get; }
        internal List<Detection> Candidates { get; } = new(256);

        public float[] Output(string name) => Outputs[OutputIndex(name)];

        public int OutputIndex(string name) => Array.IndexOf(OutputNames, name);

        /// <summary>The concrete shape of output <paramref name="index"/> for this input size.</summary>
        public IReadOnlyList<long> OutputShape(int index) => _shapes[index];

        public void Dispose()
        {
            foreach (var v in InputValues) v.Dispose();
            foreach (var v in OutputValues) v.Dispose();
            Canvas.Dispose();
            Planar.Dispose();
        }
    }
}

using CinemaVision.Core.Detections;
using CinemaVision.Core.Geometry;
using CinemaVision.Vision.Imaging;
using CinemaVision.Vision.Models;

namespace CinemaVision.Vision.Detectors;

/// <summary>What a decoder keeps: candidates at or above <see cref="MinScore"/>, of mapped classes only when asked, and no box larger than <see cref="MaxInputBox"/> model-input pixels (height).</summary>
public readonly record struct DecodeSettings(float MinScore, bool MappedClassesOnly = true, float MaxInputBox = float.MaxValue);

/// <summary>Turns a model's raw outputs into detections in frame pixels. One decoder per output layout; the manifest's <c>decoder</c> names it.</summary>
public interface IDetectionDecoder
{
    /// <summary>Checks the model's outputs (names and shapes as the graph declares them; dynamic dimensions are -1) and returns its class count.</summary>
    int CheckOutputs(ModelManifest manifest, IReadOnlyList<string> names, IReadOnlyList<long[]> shapes, SizeI nominalInput);

    void Decode(OnnxModelSession model, OnnxModelSession.InferenceBuffers buffers, in LetterboxTransform transform, in DecodeSettings settings, List<Detection> output);
}

/// <summary>The decoders known by name in <c>models/models.json</c>: a data team's model in one of these layouts needs only a manifest entry.</summary>
public static class Decoders
{
    private static readonly Dictionary<string, IDetectionDecoder> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["yolox"] = YoloxDecoder.Instance,
        ["ultraface"] = UltraFaceDecoder.Instance,
        ["lffd"] = LffdDecoder.Instance,
        ["ultralytics-v5"] = UltralyticsDecoder.V5,
        ["yolov5"] = UltralyticsDecoder.V5,
        ["ultralytics-v8"] = UltralyticsDecoder.V8,
        ["yolov8"] = UltralyticsDecoder.V8,
        ["ultralytics-v11"] = UltralyticsDecoder.V8,
        ["yolo11"] = UltralyticsDecoder.V8,
    };

    public static string Known => "yolox, ultraface, lffd, ultralytics-v5 (yolov5), ultralytics-v8 (yolov8), ultralytics-v11 (yolo11)";

    public static IDetectionDecoder For(ModelManifest manifest) =>
        ByName.TryGetValue(manifest.Decoder.Trim(), out var d) ? d : throw new ModelAssetException(manifest.Name, $"unknown decoder kind '{manifest.Decoder}' (known: {Known})");

    internal static string Describe(IReadOnlyList<string> names, IReadOnlyList<long[]> shapes) =>
        string.Join(", ", names.Select((n, i) => $"{n} [{string.Join(",", shapes[i])}]"));

    /// <summary>Best mapped class of one candidate row; -1 when none is mapped.</summary>
    internal static (int Class, float Score) BestClass(ReadOnlySpan<float> classScores, int stride, IReadOnlyList<ObjectClass> map, bool mappedOnly)
    {
        int best = -1;
        float bestScore = 0;
        for (int c = 0, o = 0; c < map.Count; c++, o += stride)
        {
            if (mappedOnly && map[c] == ObjectClass.Other) continue;
            float p = classScores[o];
            if (p > bestScore) { bestScore = p; best = c; }
        }

        return (best, bestScore);
    }
}

/// <summary>
/// YOLOX head without NMS: [1, A, 5 + C] over strides in row-major grid order; obj and class scores are already
/// sigmoid-activated in the export. cx = (t0 + gx) * s, cy = (t1 + gy) * s, w = exp(t2) * s, h = exp(t3) * s.
/// </summary>
public sealed class YoloxDecoder : IDetectionDecoder
{
    public static YoloxDecoder Instance { get; } = new();

    public int CheckOutputs(ModelManifest manifest, IReadOnlyList<string> names, IReadOnlyList<long[]> shapes, SizeI nominalInput)
    {
        if (shapes.Count != 1 || shapes[0].Length != 3)
        {
            throw new ModelAssetException(manifest.Name, $"a YOLOX model has one output [1, anchors, 5 + classes]; this one has {Decoders.Describe(names, shapes)}");
        }

        long anchors = manifest.Strides.Sum(s => (long)(nominalInput.Width / s) * (nominalInput.Height / s));
        var shape = shapes[0];
        if (shape[1] > 0 && shape[1] != anchors)
        {
            throw new ModelAssetException(manifest.Name, $"output has {shape[1]} anchors; strides {string.Join("/", manifest.Strides)} at {nominalInput} give {anchors}");
        }

        return (int)shape[2] - 5;
    }

    public void Decode(OnnxModelSession model, OnnxModelSession.InferenceBuffers buffers, in LetterboxTransform transform, in DecodeSettings settings, List<Detection> output)
    {
        var data = buffers.Outputs[0];
        int classes = model.ClassCount;
        int stride5 = 5 + classes;
        var map = model.ClassMap;
        int inW = buffers.InputSize.Width, inH = buffers.InputSize.Height;
        float minScore = settings.MinScore;
        int a = 0;
        foreach (int s in model.Manifest.Strides)
        {
            int gw = inW / s, gh = inH / s;
            for (int gy = 0; gy < gh; gy++)
            {
                for (int gx = 0; gx < gw; gx++, a++)
                {
                    int o = a * stride5;
                    float obj = data[o + 4];
                    if (obj < minScore) continue;
                    var (best, bestScore) = Decoders.BestClass(data.AsSpan(o + 5, classes), 1, map, settings.MappedClassesOnly);
                    float score = obj * bestScore;
                    if (best < 0 || score < minScore) continue;
                    float h = MathF.Exp(data[o + 3]) * s;
                    if (h > settings.MaxInputBox) continue;
                    float cx = (data[o] + gx) * s;
                    float cy = (data[o + 1] + gy) * s;
                    float w = MathF.Exp(data[o + 2]) * s;
                    var box = transform.ToFrame(BoxF.FromCenter(cx, cy, w, h));
                    output.Add(new Detection(box, best, score, map[best]));
                }
            }
        }
    }
}

/// <summary>
/// Ultralytics exports without NMS. YOLOv5: [1, N, 5 + C] rows of (cx, cy, w, h, objectness, class scores), boxes
/// in model-input pixels, scores sigmoid-activated; score = objectness × class score. YOLOv8 and YOLO11 share one
/// layout: [1, 4 + C, N] (channels first), (cx, cy, w, h, class scores), no objectness.
/// </summary>
public sealed class UltralyticsDecoder : IDetectionDecoder
{
    private readonly bool _channelsFirst;

    private UltralyticsDecoder(bool channelsFirst) => _channelsFirst = channelsFirst;

    public static UltralyticsDecoder V5 { get; } = new(channelsFirst: false);

    public static UltralyticsDecoder V8 { get; } = new(channelsFirst: true);

    public int CheckOutputs(ModelManifest manifest, IReadOnlyList<string> names, IReadOnlyList<long[]> shapes, SizeI nominalInput)
    {
        var layout = _channelsFirst ? "[1, 4 + classes, candidates] (YOLOv8/YOLO11)" : "[1, candidates, 5 + classes] (YOLOv5)";
        if (shapes.Count < 1 || shapes[0].Length != 3)
        {
            throw new ModelAssetException(manifest.Name, $"an Ultralytics model has its detections in a first output {layout}; this one has {Decoders.Describe(names, shapes)}");
        }

        long channels = _channelsFirst ? shapes[0][1] : shapes[0][2];
        int extra = _channelsFirst ? 4 : 5;
        if (channels <= extra)
        {
            throw new ModelAssetException(manifest.Name, $"output {Decoders.Describe(names, shapes)} does not have the layout {layout} (was it exported with NMS, or is it another YOLO version?)");
        }

        return (int)channels - extra;
    }

    public void Decode(OnnxModelSession model, OnnxModelSession.InferenceBuffers buffers, in LetterboxTransform transform, in DecodeSettings settings, List<Detection> output)
    {
        var data = buffers.Outputs[0];
        var shape = buffers.OutputShape(0);
        int classes = model.ClassCount;
        var map = model.ClassMap;
        float minScore = settings.MinScore;
        if (_channelsFirst)
        {
            int n = (int)shape[2];
            for (int i = 0; i < n; i++)
            {
                var (best, score) = Decoders.BestClass(data.AsSpan((4 * n) + i), n, map, settings.MappedClassesOnly);
                if (best < 0 || score < minScore) continue;
                float h = data[(3 * n) + i];
                if (h > settings.MaxInputBox) continue;
                var box = BoxF.FromCenter(data[i], data[n + i], data[(2 * n) + i], h);
                output.Add(new Detection(transform.ToFrame(box), best, score, map[best]));
            }
        }
        else
        {
            int n = (int)shape[1];
            int stride = 5 + classes;
            for (int i = 0; i < n; i++)
            {
                int o = i * stride;
                float obj = data[o + 4];
                if (obj < minScore) continue;
                var (best, cls) = Decoders.BestClass(data.AsSpan(o + 5, classes), 1, map, settings.MappedClassesOnly);
                float score = obj * cls;
                if (best < 0 || score < minScore) continue;
                float h = data[o + 3];
                if (h > settings.MaxInputBox) continue;
                var box = BoxF.FromCenter(data[o], data[o + 1], data[o + 2], h);
                output.Add(new Detection(transform.ToFrame(box), best, score, map[best]));
            }
        }
    }
}

/// <summary>UltraFace: scores [1, N, 2] (background, face) and boxes [1, N, 4] as normalised x1, y1, x2, y2.</summary>
public sealed class UltraFaceDecoder : IDetectionDecoder
{
    public static UltraFaceDecoder Instance { get; } = new();

    public int CheckOutputs(ModelManifest manifest, IReadOnlyList<string> names, IReadOnlyList<long[]> shapes, SizeI nominalInput)
    {
        int scores = names.ToList().IndexOf("scores");
        if (scores < 0 || !names.Contains("boxes"))
        {
            throw new ModelAssetException(manifest.Name, $"an UltraFace model has outputs 'scores' and 'boxes'; this one has {Decoders.Describe(names, shapes)}");
        }

        return (int)shapes[scores][2];
    }

    public void Decode(OnnxModelSession model, OnnxModelSession.InferenceBuffers buffers, in LetterboxTransform transform, in DecodeSettings settings, List<Detection> output)
    {
        var scores = buffers.Output("scores");
        var boxes = buffers.Output("boxes");
        int n = scores.Length / 2;
        float inW = buffers.InputSize.Width, inH = buffers.InputSize.Height;
        for (int i = 0; i < n; i++)
        {
            float score = scores[(2 * i) + 1];
            if (score < settings.MinScore) continue;
            int o = 4 * i;
            var box = BoxF.FromLtrb(boxes[o] * inW, boxes[o + 1] * inH, boxes[o + 2] * inW, boxes[o + 3] * inH);
            if (box.Height > settings.MaxInputBox) continue;
            output.Add(new Detection(transform.ToFrame(box), 1, score, ObjectClass.Face));
        }
    }
}

/// <summary>
/// LFFD (a light, anchor-free, fully convolutional detector): per branch i, <c>score{i}</c> [1, 1, h, w] (already
/// softmaxed: the probability that an object is centred at that receptive field) and <c>bbox{i}</c> [1, 4, h, w].
/// The receptive-field centre is (start_i + stride_i * x, start_i + stride_i * y); the box is
/// x1 = cx - b0 * C_i, y1 = cy - b1 * C_i, x2 = cx - b2 * C_i, y2 = cy - b3 * C_i, where the manifest gives strides,
/// <c>receptiveFieldStarts</c> and <c>boxScales</c> (C). A branch whose smallest box is above
/// <see cref="DecodeSettings.MaxInputBox"/> is skipped whole: the large-object branches are the ones that fire on
/// curtain and seat textures.
/// </summary>
public sealed class LffdDecoder : IDetectionDecoder
{
    public static LffdDecoder Instance { get; } = new();

    public int CheckOutputs(ModelManifest manifest, IReadOnlyList<string> names, IReadOnlyList<long[]> shapes, SizeI nominalInput)
    {
        int branches = manifest.Strides.Count;
        if (manifest.ReceptiveFieldStarts.Count != branches || manifest.BoxScales.Count != branches)
        {
            throw new ModelAssetException(manifest.Name, $"an LFFD manifest needs one stride, receptiveFieldStarts and boxScales entry per branch (has {branches}, {manifest.ReceptiveFieldStarts.Count}, {manifest.BoxScales.Count})");
        }

        for (int i = 0; i < branches; i++)
        {
            if (!names.Contains($"score{i}") || !names.Contains($"bbox{i}"))
            {
                throw new ModelAssetException(manifest.Name, $"an LFFD model with {branches} branches has outputs score0..score{branches - 1} and bbox0..bbox{branches - 1}; this one has {string.Join(", ", names)}");
            }
        }

        return 1;
    }

    public void Decode(OnnxModelSession model, OnnxModelSession.InferenceBuffers buffers, in LetterboxTransform transform, in DecodeSettings settings, List<Detection> output)
    {
        var manifest = model.Manifest;
        var cls = model.ClassMap[0];
        float minScore = settings.MinScore;
        for (int b = 0; b < manifest.Strides.Count; b++)
        {
            float scale = manifest.BoxScales[b];
            // Branch b finds objects of about scale..2*scale input pixels.
            if (scale > settings.MaxInputBox) continue;
            int si = buffers.OutputIndex($"score{b}");
            int bi = buffers.OutputIndex($"bbox{b}");
            var score = buffers.Outputs[si];
            var box = buffers.Outputs[bi];
            var shape = buffers.OutputShape(si);
            int h = (int)shape[2], w = (int)shape[3];
            int plane = h * w;
            int channel = (int)shape[1] - 1; // a two-channel (background, object) map keeps the object in the last channel
            float start = manifest.ReceptiveFieldStarts[b], stride = manifest.Strides[b];
            for (int y = 0; y < h; y++)
            {
                int row = (channel * plane) + (y * w);
                for (int x = 0; x < w; x++)
                {
                    float p = score[row + x];
                    if (p < minScore) continue;
                    int o = (y * w) + x;
                    float cx = start + (stride * x), cy = start + (stride * y);
                    var r = BoxF.FromLtrb(cx - (box[o] * scale), cy - (box[plane + o] * scale), cx - (box[(2 * plane) + o] * scale), cy - (box[(3 * plane) + o] * scale));
                    if (r.IsEmpty || r.Height > settings.MaxInputBox) continue;
                    output.Add(new Detection(transform.ToFrame(r), 0, p, cls));
                }
            }
        }
    }
}

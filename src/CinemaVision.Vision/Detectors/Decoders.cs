using CinemaVision.Core.Detections;
using CinemaVision.Core.Geometry;
using CinemaVision.Vision.Imaging;

namespace CinemaVision.Vision.Detectors;

/// <summary>Turns a model's raw outputs into detections in frame pixels.</summary>
public interface IDetectionDecoder
{
    void Decode(OnnxModelSession model, OnnxModelSession.InferenceBuffers buffers, in LetterboxTransform transform, float minScore, bool mappedClassesOnly, List<Detection> output);
}

/// <summary>
/// YOLOX head without NMS: [1, A, 5 + C] over strides in row-major grid order; obj and class scores are already
/// sigmoid-activated in the export. cx = (t0 + gx) * s, cy = (t1 + gy) * s, w = exp(t2) * s, h = exp(t3) * s.
/// </summary>
public sealed class YoloxDecoder : IDetectionDecoder
{
    public static YoloxDecoder Instance { get; } = new();

    public void Decode(OnnxModelSession model, OnnxModelSession.InferenceBuffers buffers, in LetterboxTransform transform, float minScore, bool mappedClassesOnly, List<Detection> output)
    {
        var data = buffers.Outputs[0];
        int classes = model.ClassCount;
        int stride5 = 5 + classes;
        var map = model.ClassMap;
        int inW = model.InputSize.Width, inH = model.InputSize.Height;
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
                    int best = -1;
                    float bestScore = 0;
                    for (int c = 0; c < classes; c++)
                    {
                        if (mappedClassesOnly && map[c] == ObjectClass.Other) continue;
                        float p = data[o + 5 + c];
                        if (p > bestScore) { bestScore = p; best = c; }
                    }

                    float score = obj * bestScore;
                    if (best < 0 || score < minScore) continue;
                    float cx = (data[o] + gx) * s;
                    float cy = (data[o + 1] + gy) * s;
                    float w = MathF.Exp(data[o + 2]) * s;
                    float h = MathF.Exp(data[o + 3]) * s;
                    var box = transform.ToFrame(BoxF.FromCenter(cx, cy, w, h));
                    output.Add(new Detection(box, best, score, map[best]));
                }
            }
        }
    }
}

/// <summary>UltraFace: scores [1, N, 2] (background, face) and boxes [1, N, 4] as normalised x1, y1, x2, y2.</summary>
public sealed class UltraFaceDecoder : IDetectionDecoder
{
    public static UltraFaceDecoder Instance { get; } = new();

    public void Decode(OnnxModelSession model, OnnxModelSession.InferenceBuffers buffers, in LetterboxTransform transform, float minScore, bool mappedClassesOnly, List<Detection> output)
    {
        var scores = buffers.Output("scores");
        var boxes = buffers.Output("boxes");
        int n = scores.Length / 2;
        float inW = model.InputSize.Width, inH = model.InputSize.Height;
        for (int i = 0; i < n; i++)
        {
            float score = scores[(2 * i) + 1];
            if (score < minScore) continue;
            int o = 4 * i;
            var box = BoxF.FromLtrb(boxes[o] * inW, boxes[o + 1] * inH, boxes[o + 2] * inW, boxes[o + 3] * inH);
            output.Add(new Detection(transform.ToFrame(box), 1, score, ObjectClass.Face));
        }
    }
}

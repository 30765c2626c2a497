using System.Collections.Concurrent;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Frames;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Tiling;
using CinemaVision.Vision.Frames;
using OpenCvSharp;

namespace CinemaVision.Vision.Detectors;

/// <summary>
/// The detection engine: plans tiles for the frame size (cached), letterboxes each tile into pooled buffers, runs
/// the shared ONNX session on several tiles at once, decodes, maps boxes back to the frame, marks boxes cut by an
/// inner tile edge, and merges everything across tiles and scales.
/// </summary>
public sealed class TiledDetector : IObjectDetector
{
    private readonly OnnxModelSession _model;
    private readonly IDetectionDecoder _decoder;
    private readonly DetectionOptions _options;
    private readonly TilePlanCache _plans;
    private readonly ConcurrentBag<List<TileDetection>> _candidateLists = [];
    private readonly float _minScore;
    private readonly bool _ownsModel;

    public TiledDetector(OnnxModelSession model, IDetectionDecoder decoder, DetectionOptions options, bool ownsModel = true)
    {
        var problems = options.Validate().ToList();
        if (problems.Count > 0) throw new ArgumentException("Invalid detection options: " + string.Join(" ", problems), nameof(options));
        _model = model;
        _decoder = decoder;
        _options = options;
        _ownsModel = ownsModel;
        _minScore = options.Merge.MinimumScoreThreshold;
        _plans = new TilePlanCache(model.InputSize, ResolveTiling);
    }

    public DetectorInfo Info => _model.Info;

    public OnnxModelSession Model => _model;

    public DetectionOptions Options => _options;

    /// <summary>The tiles a frame of this size is cut into (planned once per size).</summary>
    public TilePlan PlanFor(SizeI frame) => _plans.Get(frame);

    public IReadOnlyList<Detection> Detect(IFrame frame, CancellationToken cancellationToken = default) =>
        Detect(MatFrame.MatOf(frame), cancellationToken);

    public List<Detection> Detect(Mat bgr, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bgr);
        if (bgr.Type() != MatType.CV_8UC3) throw new ArgumentException($"Expected a BGR 8-bit image, got {bgr.Type()}.", nameof(bgr));
        var size = new SizeI(bgr.Width, bgr.Height);
        var plan = PlanFor(size);
        if (!_candidateLists.TryTake(out var candidates)) candidates = new List<TileDetection>(256);
        candidates.Clear();
        try
        {

            if (plan.Tiles.Count == 1 || _options.TileParallelism == 1)
            {
                foreach (var tile in plan.Tiles)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    RunTile(bgr, tile, size, candidates);
                }
            }
            else
            {
                Parallel.For(0, plan.Tiles.Count, new ParallelOptions { MaxDegreeOfParallelism = _options.TileParallelism, CancellationToken = cancellationToken },
                    i => RunTile(bgr, plan.Tiles[i], size, candidates));
            }

            return DetectionMerger.Merge(candidates, _options.Merge);
        }
        finally
        {
            _candidateLists.Add(candidates);
        }
    }

    /// <summary>
    /// The model input a tile is run at. A fixed-size model takes its own size (the tile is letterboxed into it);
    /// a fully convolutional one takes the region resampled by the tile's scale, or by the scale that fits the
    /// nominal input, or (full frame) at native resolution up to <see cref="DetectionOptions.MaxInputPixels"/>.
    /// </summary>
    public SizeI InputSizeFor(in Tile tile)
    {
        if (!_model.IsDynamicSize) return _model.InputSize;
        var r = tile.Region;
        float scale = tile.Scale > 0 ? tile.Scale
            : tile.IsFullFrame ? _options.FullFrameScale
            : MathF.Min((float)_model.InputSize.Width / r.Width, (float)_model.InputSize.Height / r.Height);
        float pixels = r.Width * r.Height * scale * scale;
        if (pixels > _options.MaxInputPixels) scale *= MathF.Sqrt(_options.MaxInputPixels / pixels);
        // Sizes are rounded up to a multiple of 32 (the region is padded, not stretched), so frames of nearly the same
        // size share pooled buffers, and the deepest stride divides the input.
        static int Align(float v) => Math.Max(32, ((int)MathF.Ceiling(v) + 31) / 32 * 32);
        return new SizeI(Align(r.Width * scale), Align(r.Height * scale));
    }

    /// <summary>
    /// Runs a plan made by the caller (such as perspective scale bands) and returns each tile's candidates after the
    /// per-run suppression, unmerged. Boxes cut by an inner tile edge are left out when <paramref name="dropCut"/>:
    /// a plan whose tiles overlap by a whole object sees every object whole in some tile.
    /// </summary>
    public List<Detection> DetectCandidates(Mat bgr, TilePlan plan, bool dropCut = true, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bgr);
        ArgumentNullException.ThrowIfNull(plan);
        if (bgr.Type() != MatType.CV_8UC3) throw new ArgumentException($"Expected a BGR 8-bit image, got {bgr.Type()}.", nameof(bgr));
        var size = new SizeI(bgr.Width, bgr.Height);
        var sink = new List<TileDetection>(256);
        Parallel.For(0, plan.Tiles.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Math.Min(_options.TileParallelism, plan.Tiles.Count)), CancellationToken = cancellationToken },
            i => RunTile(bgr, plan.Tiles[i], size, sink));
        return [.. sink.Where(t => !dropCut || !t.IsCut).Select(t => t.Detection)];
    }

    private void RunTile(Mat bgr, Tile tile, SizeI frame, List<TileDetection> sink)
    {
        var buffers = _model.Rent(InputSizeFor(tile));
        try
        {
            var transform = _model.Prepare(buffers, bgr, tile.Region);
            _model.Run(buffers);
            var found = buffers.Candidates;
            found.Clear();
            _decoder.Decode(_model, buffers, transform, new DecodeSettings(_minScore, _options.MappedClassesOnly, _options.MaxObjectInputPixels), found);
            DetectionMerger.SuppressInPlace(found, _options.TileNmsIoU);
            float tol = _options.Merge.EdgeTolerance;
            lock (sink)
            {
                foreach (var d in found)
                {
                    var clipped = d with { Box = d.Box.ClipTo(frame.Width, frame.Height) };
                    sink.Add(new TileDetection(clipped, DetectionMerger.IsCutByTileEdge(clipped.Box, tile, frame, tol)));
                }
            }
        }
        finally
        {
            _model.Return(buffers);
        }
    }

    private TilingOptions ResolveTiling(SizeI frame)
    {
        int native = _model.InputSize.Height;
        var o = _options;
        return o.Tiling switch
        {
            TilingMode.Full => TilingOptions.FullFrameOnly,
            TilingMode.Tiled => new TilingOptions
            {
                TileSizes = o.TileSizes ?? [_model.InputSize.Width, 2 * _model.InputSize.Width],
                Overlap = o.Overlap,
                FullFrame = o.FullFrame,
                RegionOfInterest = o.RegionOfInterest,
            },
            _ when o.Perspective is not null => new TilingOptions
            {
                Perspective = o.Perspective,
                TargetObjectPixels = o.TargetObjectPixels,
                Overlap = o.Overlap,
                FullFrame = o.FullFrame,
                RegionOfInterest = o.RegionOfInterest,
            },
            _ => new TilingOptions
            {
                TileSizes = Math.Max(frame.Width, frame.Height) <= native * 1.3 ? []
                    : Math.Max(frame.Width, frame.Height) >= native * 4 ? [_model.InputSize.Width, 2 * _model.InputSize.Width]
                    : [_model.InputSize.Width],
                Overlap = o.Overlap,
                FullFrame = true,
                RegionOfInterest = o.RegionOfInterest,
            },
        };
    }

    public void Dispose()
    {
        if (_ownsModel) _model.Dispose();
    }
}

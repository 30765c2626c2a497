using System.Collections.Concurrent;
using OpenCvSharp;

namespace CinemaVision.Vision.Cameras;

/// <summary>
/// Reuses frame buffers of one size so a long-running stream allocates no pixel memory per frame. Frames go back
/// here when their <see cref="Frames.MatFrame"/> is disposed.
/// </summary>
public sealed class FramePool : IDisposable
{
    private readonly ConcurrentBag<Mat> _free = [];
    private readonly int _maxFree;
    private long _created;
    private long _outstanding;

    public FramePool(int maxFree = 4) => _maxFree = maxFree;

    public long Created => Interlocked.Read(ref _created);
    public long Outstanding => Interlocked.Read(ref _outstanding);

    public Mat Rent(int width, int height)
    {
        Interlocked.Increment(ref _outstanding);
        while (_free.TryTake(out var mat))
        {
            if (mat.Width == width && mat.Height == height) return mat;
            mat.Dispose(); // the stream changed size
        }

        Interlocked.Increment(ref _created);
        return new Mat(height, width, MatType.CV_8UC3);
    }

    public void Return(Mat mat)
    {
        Interlocked.Decrement(ref _outstanding);
        if (_free.Count < _maxFree) _free.Add(mat);
        else mat.Dispose();
    }

    public void Dispose()
    {
        while (_free.TryTake(out var m)) m.Dispose();
    }
}

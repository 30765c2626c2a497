using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Tracking;

/// <summary>
/// Constant-velocity Kalman filter on a box as (centre x, centre y, aspect ratio w/h, height) and their velocities,
/// with noise proportional to the box height (as in SORT/DeepSORT/ByteTrack).
/// </summary>
public sealed class KalmanBoxFilter
{
    private const float StdPosition = 1f / 20;
    private const float StdVelocity = 1f / 160;
    private readonly float[] _x = new float[8];
    private readonly float[,] _p = new float[8, 8];

    public KalmanBoxFilter(BoxF box)
    {
        var z = Measure(box);
        Array.Copy(z, _x, 4);
        float h = z[3];
        float[] std = [2 * StdPosition * h, 2 * StdPosition * h, 1e-2f, 2 * StdPosition * h, 10 * StdVelocity * h, 10 * StdVelocity * h, 1e-5f, 10 * StdVelocity * h];
        for (int i = 0; i < 8; i++) _p[i, i] = std[i] * std[i];
    }

    public BoxF Box
    {
        get
        {
            float h = MathF.Max(1, _x[3]);
            float w = MathF.Max(1, _x[2] * h);
            return BoxF.FromCenter(_x[0], _x[1], w, h);
        }
    }

    /// <summary>Velocity of the box centre in pixels per step.</summary>
    public PointF Velocity => new(_x[4], _x[5]);

    public void Predict()
    {
        float h = _x[3];
        for (int i = 0; i < 4; i++) _x[i] += _x[i + 4];
        // P = F P F^T + Q with F = [I I; 0 I].
        var fp = new float[8, 8];
        for (int i = 0; i < 8; i++)
        {
            for (int j = 0; j < 8; j++) fp[i, j] = _p[i, j] + (i < 4 ? _p[i + 4, j] : 0);
        }

        for (int i = 0; i < 8; i++)
        {
            for (int j = 0; j < 8; j++) _p[i, j] = fp[i, j] + (j < 4 ? fp[i, j + 4] : 0);
        }

        float[] q = [StdPosition * h, StdPosition * h, 1e-2f, StdPosition * h, StdVelocity * h, StdVelocity * h, 1e-5f, StdVelocity * h];
        for (int i = 0; i < 8; i++) _p[i, i] += q[i] * q[i];
    }

    public void Update(BoxF box)
    {
        var z = Measure(box);
        float h = _x[3];
        float[] r = [StdPosition * h, StdPosition * h, 1e-1f, StdPosition * h];
        // S = H P H^T + R (4x4, top-left block of P); K = P H^T S^-1 (8x4).
        var s = new float[4, 4];
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 4; j++) s[i, j] = _p[i, j] + (i == j ? r[i] * r[i] : 0);
        }

        var sInv = Invert4(s);
        var k = new float[8, 4];
        for (int i = 0; i < 8; i++)
        {
            for (int j = 0; j < 4; j++)
            {
                float sum = 0;
                for (int m = 0; m < 4; m++) sum += _p[i, m] * sInv[m, j];
                k[i, j] = sum;
            }
        }

        var y = new float[4];
        for (int i = 0; i < 4; i++) y[i] = z[i] - _x[i];
        for (int i = 0; i < 8; i++)
        {
            for (int j = 0; j < 4; j++) _x[i] += k[i, j] * y[j];
        }

        // P = (I - K H) P
        var np = new float[8, 8];
        for (int i = 0; i < 8; i++)
        {
            for (int j = 0; j < 8; j++)
            {
                float sum = 0;
                for (int m = 0; m < 4; m++) sum += k[i, m] * _p[m, j];
                np[i, j] = _p[i, j] - sum;
            }
        }

        Array.Copy(np, _p, np.Length);
    }

    private static float[] Measure(BoxF b) => [b.CenterX, b.CenterY, b.Width / MathF.Max(1, b.Height), b.Height];

    private static float[,] Invert4(float[,] a)
    {
        // Gauss-Jordan on a 4x4 symmetric positive-definite matrix.
        var m = new double[4, 8];
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 4; j++) m[i, j] = a[i, j];
            m[i, i + 4] = 1;
        }

        for (int c = 0; c < 4; c++)
        {
            int pivot = c;
            for (int r = c + 1; r < 4; r++) if (Math.Abs(m[r, c]) > Math.Abs(m[pivot, c])) pivot = r;
            for (int j = 0; j < 8; j++) (m[c, j], m[pivot, j]) = (m[pivot, j], m[c, j]);
            double d = m[c, c];
            if (Math.Abs(d) < 1e-12) d = 1e-12;
            for (int j = 0; j < 8; j++) m[c, j] /= d;
            for (int r = 0; r < 4; r++)
            {
                if (r == c) continue;
                double f = m[r, c];
                for (int j = 0; j < 8; j++) m[r, j] -= f * m[c, j];
            }
        }

        var inv = new float[4, 4];
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 4; j++) inv[i, j] = (float)m[i, j + 4];
        }

        return inv;
    }
}

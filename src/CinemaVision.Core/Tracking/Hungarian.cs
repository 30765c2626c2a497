namespace CinemaVision.Core.Tracking;

/// <summary>Minimum-cost one-to-one assignment (Hungarian / Kuhn–Munkres, O(n³)) for the tracker's association.</summary>
public static class Hungarian
{
    /// <summary>Returns, for each row, the assigned column or -1. Pairs whose cost exceeds <paramref name="maxCost"/> are left unassigned.</summary>
    public static int[] Solve(double[,] cost, double maxCost)
    {
        int rows = cost.GetLength(0), cols = cost.GetLength(1);
        int n = Math.Max(rows, cols);
        var result = Enumerable.Repeat(-1, rows).ToArray();
        if (rows == 0 || cols == 0) return result;
        double big = maxCost + 1;
        var a = new double[n + 1, n + 1];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) a[i + 1, j + 1] = i < rows && j < cols ? Math.Min(cost[i, j], big) : big;
        }

        var u = new double[n + 1];
        var v = new double[n + 1];
        var p = new int[n + 1];
        var way = new int[n + 1];
        for (int i = 1; i <= n; i++)
        {
            p[0] = i;
            int j0 = 0;
            var minv = Enumerable.Repeat(double.MaxValue, n + 1).ToArray();
            var used = new bool[n + 1];
            do
            {
                used[j0] = true;
                int i0 = p[j0], j1 = 0;
                double delta = double.MaxValue;
                for (int j = 1; j <= n; j++)
                {
                    if (used[j]) continue;
                    double cur = a[i0, j] - u[i0] - v[j];
                    if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
                    if (minv[j] < delta) { delta = minv[j]; j1 = j; }
                }

                for (int j = 0; j <= n; j++)
                {
                    if (used[j]) { u[p[j]] += delta; v[j] -= delta; }
                    else minv[j] -= delta;
                }

                j0 = j1;
            }
            while (p[j0] != 0);

            do
            {
                int j1 = way[j0];
                p[j0] = p[j1];
                j0 = j1;
            }
            while (j0 != 0);
        }

        for (int j = 1; j <= n; j++)
        {
            int i = p[j] - 1, c = j - 1;
            if (i < rows && c < cols && cost[i, c] <= maxCost) result[i] = c;
        }

        return result;
    }
}

using System.Globalization;

namespace CinemaVision.Testing;

/// <summary>CPU time and memory of a process and its children (an agent and its ffmpeg decoders), from /proc.</summary>
public static class ProcessTree
{
    /// <summary>CPU time of the process (with its reaped children) and of its live children.</summary>
    public static TimeSpan CpuTime(int pid)
    {
        var total = Stat(pid, includeReaped: true);
        foreach (var child in Children(pid)) total += Stat(child, includeReaped: true);
        return total;
    }

    /// <summary>Resident memory (bytes) of the process: now and at its peak.</summary>
    public static (long Current, long Peak) Resident(int pid)
    {
        long current = 0, peak = 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) current = Kb(line);
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kb(line);
            }
        }
        catch (IOException)
        {
        }

        return (current, peak);
    }

    /// <summary>Resident memory of the process's live children (bytes).</summary>
    public static long ChildrenResident(int pid) => Children(pid).Sum(c => Resident(c).Current);

    public static IReadOnlyList<int> Children(int pid)
    {
        var children = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.Integer, CultureInfo.InvariantCulture, out var p)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], CultureInfo.InvariantCulture) == pid) children.Add(p);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
            }
        }

        return children;
    }

    private static TimeSpan Stat(int pid, bool includeReaped)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long ticks = long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
            if (includeReaped) ticks += long.Parse(f[13], CultureInfo.InvariantCulture) + long.Parse(f[14], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0);
        }
        catch (Exception ex) when (ex is IOException or FormatException or IndexOutOfRangeException)
        {
            return TimeSpan.Zero;
        }
    }

    private static long Kb(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
}

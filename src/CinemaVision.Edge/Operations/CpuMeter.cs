using System.Diagnostics;
using System.Globalization;

namespace CinemaVision.Edge.Operations;

/// <summary>The decoder processes of the agent's cameras (set by the agent once its cameras exist).</summary>
public sealed class DecoderProcesses
{
    public Func<IEnumerable<int>> Source { get; set; } = () => [];
}

/// <summary>
/// CPU used by the agent and its decoder children (ffmpeg), from /proc: the process's own time, its live children's
/// time and the time of children already reaped. Decoding is a large share of an agent's CPU, so a budget that ignored
/// the children would be no budget.
/// </summary>
public sealed class CpuMeter
{
    private readonly object _gate = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly DecoderProcesses _children;
    private TimeSpan _lastCpu;
    private TimeSpan _lastWall;
    private double _cores;

    public CpuMeter(DecoderProcesses children)
    {
        _children = children;
        _lastCpu = Total();
        _lastWall = _clock.Elapsed;
    }

    /// <summary>Cores used since the previous sample (call about once a second).</summary>
    public double Sample()
    {
        lock (_gate)
        {
            var cpu = Total();
            var wall = _clock.Elapsed;
            var dw = (wall - _lastWall).TotalSeconds;
            if (dw >= 0.2)
            {
                _cores = Math.Max(0, (cpu - _lastCpu).TotalSeconds / dw);
                _lastCpu = cpu;
                _lastWall = wall;
            }

            return _cores;
        }
    }

    /// <summary>The latest sample.</summary>
    public double Cores
    {
        get
        {
            lock (_gate) return _cores;
        }
    }

    /// <summary>CPU time of this process, its reaped children and its live children.</summary>
    public TimeSpan Total()
    {
        var total = ProcessCpu("/proc/self/stat", includeReaped: true) ?? Process.GetCurrentProcess().TotalProcessorTime;
        foreach (var pid in _children.Source())
        {
            total += ProcessCpu($"/proc/{pid}/stat", includeReaped: false) ?? TimeSpan.Zero;
        }

        return total;
    }

    /// <summary>Resident memory of this process now and at its peak (bytes), from /proc/self/status.</summary>
    public static (long Current, long Peak) ResidentMemory()
    {
        try
        {
            long current = 0, peak = 0;
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) current = Kb(line);
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kb(line);
            }

            return (current, peak);
        }
        catch (IOException)
        {
            return (Environment.WorkingSet, Environment.WorkingSet);
        }

        static long Kb(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    private static TimeSpan? ProcessCpu(string statPath, bool includeReaped)
    {
        try
        {
            var stat = File.ReadAllText(statPath);
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // utime, stime, cutime, cstime are fields 14-17 (1-based), i.e. 11-14 after the command name.
            long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            if (includeReaped) ticks += long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
